import ArgumentParser

struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "monitor", abstract: "Not written yet.")

    func run() async throws {
        throw ValidationError("'monitor' is not written yet")
    }
}
