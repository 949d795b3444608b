import Foundation

/// Paths and process running for the tests of the service files (units, udev rules, install).
enum ServiceTestSupport {
    /// The package root (this file is `Tests/IntegrationTests/…`).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The directory of the running test binary: where SwiftPM put `vkb-bridge` as well.
    static let binDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent()

    /// `debug` or `release`, from the bin directory's name.
    static var configuration: String { binDirectory.lastPathComponent }

    static let isRoot = getuid() == 0
    /// CI must run every test: there, a missing tool or privilege fails instead of skipping.
    static let inCI = ProcessInfo.processInfo.environment["CI"] != nil

    /// The tool's path, looked up in PATH and the sbin directories (a path is taken as is).
    static func which(_ tool: String) -> String? {
        if tool.contains("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return dirs.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func haveTools(_ tools: String...) -> Bool { tools.allSatisfy { which($0) != nil } }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    struct ToolError: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `tool` (looked up with `which`) to completion, or kills it after `timeout`.
    static func run(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:],
        in directory: URL? = nil, timeout: Duration = .seconds(120)
    ) throws -> Output {
        guard let executable = which(tool) else { throw ToolError(description: "\(tool) not found in PATH") }
        let scratch = try temporaryDirectory("vkb-run")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        guard FileManager.default.createFile(atPath: outURL.path, contents: nil),
            FileManager.default.createFile(atPath: errURL.path, contents: nil)
        else { throw ToolError(description: "cannot create output files in \(scratch.path)") }
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.currentDirectoryURL = directory ?? packageRoot
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw ToolError(description: "\(tool) \(arguments.joined(separator: " ")) still running after \(timeout)")
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Output(
            status: process.terminationStatus,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    static func temporaryDirectory(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `text` with every `old` replaced, failing if `old` does not occur (a stale test edit).
    static func replacing(_ old: String, with new: String, in text: String) throws -> String {
        guard text.contains(old) else { throw ToolError(description: "'\(old)' not found") }
        return text.replacingOccurrences(of: old, with: new)
    }
}
