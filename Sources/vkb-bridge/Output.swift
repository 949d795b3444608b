import Glibc
import SystemPackage

/// Writes a line to standard error.
func printError(_ message: String) {
    writeLine(message, to: STDERR_FILENO)
}

/// Writes a line to standard output at once (no stdio buffering), so a reader on a
/// pipe sees each line as it happens.
func printLine(_ message: String) {
    writeLine(message, to: STDOUT_FILENO)
}

private func writeLine(_ message: String, to fd: Int32) {
    var bytes = Array(message.utf8)
    if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
    // A closed stdout has nowhere to report to.
    _ = try? FileDescriptor(rawValue: fd).writeAll(bytes)
}

import ArgumentParser
import VKBDaemon

/// Loads a config, or prints every error with file:line and exits 2. A child process
/// parses it first (`ConfigurationChecker`): a file that crashes the TOML parser is
/// refused like any other bad file. `path` "-" reads standard input.
func loadConfigurationOrExit(_ path: String) throws -> BridgeConfiguration {
    let name = ConfigArgument.name(path)
    do {
        let bytes = try ConfigurationLoader.bytes(atPath: ConfigArgument.path(path))
        let loaded = try ConfigurationChecker.thisProgram.load(bytes, file: name)
        if let unchecked = loaded.unchecked {
            printError("warning: \(name): parsed without the check in a child process (\(unchecked))")
        }
        return loaded.configuration
    } catch {
        printError(error.description)
        throw ExitCode(2)
    }
}

/// A config file argument: `-` is standard input.
enum ConfigArgument {
    /// What to open.
    static func path(_ argument: String) -> String { argument == "-" ? "/dev/stdin" : argument }
    /// What messages call it.
    static func name(_ argument: String) -> String { argument == "-" ? "(stdin)" : argument }
}
