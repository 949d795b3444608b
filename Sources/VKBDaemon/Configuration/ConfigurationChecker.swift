// Owns the child process (and its stdin pipe) that parses a config before this process does.

import Glibc
import SystemPackage
import VKBCore
import VKBLoop

/// Parses a config in a child process before this process parses it, so a file that makes
/// the bundled TOML parser abort or overflow its stack (toml++ asserts on some malformed
/// input) costs the child, never the running daemon. `TOMLPreflight` refuses every such
/// file known; this covers the ones nobody has found yet.
///
/// The child is `executable check-config --in-process -`, with the config's bytes on its
/// stdin: this program, parsing them exactly as the daemon would. Only how it ends matters:
/// killed by a signal, the file is refused; otherwise this process parses the same bytes
/// and reports its own diagnostics.
public struct ConfigurationChecker: Sendable {
    /// The program run as the child.
    public let executable: String
    /// How long the child may take before it is killed and the file refused.
    public let timeout: Duration

    public init(executable: String, timeout: Duration = .seconds(10)) {
        self.executable = executable
        self.timeout = timeout
    }

    /// The running program itself.
    public static let thisProgram = ConfigurationChecker(executable: "/proc/self/exe")

    /// A config that parsed, and a warning when it could not be checked in a child first.
    public struct Loaded: Sendable {
        public var configuration: BridgeConfiguration
        /// Why no child checked it (the program could not be started): it was parsed in
        /// this process without that protection.
        public var unchecked: String?

        init(configuration: BridgeConfiguration, unchecked: String? = nil) {
            self.configuration = configuration
            self.unchecked = unchecked
        }
    }

    /// Loads the file at `path` as `ConfigurationLoader.load` does, once a child has parsed
    /// the same bytes and lived. Blocks: call it off the loop.
    public func load(path: String) throws(ConfigurationError) -> Loaded {
        try load(try ConfigurationLoader.bytes(atPath: path), file: path)
    }

    /// Loads a config's bytes (`file` names it in errors) once a child has parsed them and lived.
    public func load(_ bytes: [UInt8], file path: String) throws(ConfigurationError) -> Loaded {
        let text = try ConfigurationLoader.text(of: bytes, file: path)
        var unchecked: String?
        switch run(bytes) {
        case .lived:
            break
        case .killed(let signal):
            throw ConfigurationError([.init(
                file: path, line: nil,
                message: "the TOML parser crashed on this file (\(Self.name(of: signal)) in a child process that checks it first); refused. Look for a malformed [table] header or key, or an unclosed bracket")])
        case .timedOut:
            throw ConfigurationError([.init(file: path, line: nil, message: "the TOML parser did not finish within \(timeout) (in a child process that checks it first); refused")])
        case .unavailable(let reason):
            unchecked = reason
        }
        return Loaded(configuration: try ConfigurationLoader.parse(text, file: path), unchecked: unchecked)
    }

    enum Outcome: Equatable {
        case lived
        case killed(signal: Int32)
        case timedOut
        case unavailable(String)
    }

    /// Runs the child on `bytes` and waits for it.
    func run(_ bytes: [UInt8]) -> Outcome {
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { return .unavailable("pipe: \(SystemCallError.message(errno))") }
        // Close-on-exec: the child gets the read end as its stdin only (dup2 clears the flag).
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var writer = pipeFDs[1]
        defer {
            if writer >= 0 { close(writer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [executable, "check-config", "--in-process", "-"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, &argv, environ)
        close(pipeFDs[0])
        guard spawned == 0 else { return .unavailable("cannot start \(executable): \(SystemCallError.message(spawned))") }

        // A child that dies before reading everything makes the write fail with EPIPE: the
        // SIGPIPE that comes with it is blocked here and taken back, never delivered.
        Self.withSIGPIPEBlocked { _ = try? FileDescriptor(rawValue: writer).writeAll(bytes) }
        close(writer)
        writer = -1
        return wait(for: pid)
    }

    /// Waits for the child, at most `timeout` (then kills it).
    private func wait(for pid: pid_t) -> Outcome {
        let deadline = MonotonicClock.now() &+ timeout.nanoseconds
        var status: Int32 = 0
        while true {
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid { break }
            if done < 0 && errno != EINTR { return .unavailable("waitpid: \(SystemCallError.message(errno))") }
            if MonotonicClock.now() >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return .timedOut
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
        // WIFSIGNALED / WTERMSIG: the macros do not import into Swift.
        let signal = status & 0x7F
        return signal != 0 && signal != 0x7F ? .killed(signal: signal) : .lived
    }

    private static func withSIGPIPEBlocked(_ body: () -> Void) {
        var pipe = sigset_t()
        var old = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipe, &old)
        body()
        var pending = sigset_t()
        sigpending(&pending)
        if sigismember(&pending, SIGPIPE) == 1 && sigismember(&old, SIGPIPE) == 0 {
            var none = timespec()
            _ = sigtimedwait(&pipe, nil, &none)
        }
        pthread_sigmask(SIG_SETMASK, &old, nil)
    }

    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGABRT: "SIGABRT"
        case SIGSEGV: "SIGSEGV"
        case SIGBUS: "SIGBUS"
        case SIGILL: "SIGILL"
        case SIGTRAP: "SIGTRAP"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        default: "signal \(signal)"
        }
    }
}
