import Foundation
import Testing

/// `vkb-bridge demo`, sped up: it must keep telling the story and converging.
@Suite struct DemoTests {
    @Test func demoKillsRestartsAndConverges() async throws {
        let demo = try ChildProcess(executable: try TestBinaries.bridge, arguments: ["demo", "--speed", "8"])
        #expect(try await demo.waitForExit(timeout: .seconds(60)) == .exited(0), "\(demo.report())")
        try await demo.waitForOutputClosed()
        let out = demo.stdout.lines
        #expect(out.contains { $0.contains("killing sink #1 with SIGKILL") })
        #expect(out.contains { $0.contains("sink #2") && $0.contains("← the current state, sent first on the new connection") })
        #expect(out.last == "converged: the restarted sink holds the stick's true state")
    }
}
