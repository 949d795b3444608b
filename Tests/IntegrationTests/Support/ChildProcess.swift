import Foundation
import NIOConcurrencyHelpers

/// A child process for integration tests: spawned with `posix_spawn`, stdout and stderr
/// captured line by line, waited on by polling with deadlines, and killed (with its
/// whole process group) when the object goes away, so no process outlives its test.
///
/// The child starts in its own process group, with an empty signal mask and default
/// signal dispositions (whatever the test runner ignores or blocks does not leak into
/// it), stdin on `/dev/null`, and no file descriptors but 0, 1 and 2. The own group lets
/// cleanup kill wrapped programs too (`umockdev-run -- vkb-bridge`); the price is that a
/// Ctrl-C in the terminal does not reach it, so a test runner killed from outside
/// (not a failing test) can leave children behind.
///
/// ```swift
/// let child = try ChildProcess(executable: TestBinaries.sink, arguments: ["--listen", "127.0.0.1:0"])
/// let ready = try await child.waitForLine(on: .stderr) { $0.contains("listening on") }
/// child.signal(SIGTERM)
/// #expect(try await child.waitForExit() == .exited(0))
/// ```
final class ChildProcess: Sendable {
    /// One of the captured output streams.
    enum Stream: String, Sendable {
        case stdout, stderr
    }

    /// How the process ended.
    enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
        /// `exit(code)`.
        case exited(Int32)
        /// Killed by a signal.
        case signaled(Int32)

        var description: String {
            switch self {
            case .exited(let code): "exit code \(code)"
            case .signaled(let signal): "killed by signal \(signal) (\(String(cString: strsignal(signal))))"
            }
        }
    }

    /// Process id; also the process group id.
    let pid: pid_t
    /// Short name for messages: the executable's file name.
    let name: String
    let executable: String
    let arguments: [String]
    /// Captured standard output.
    let stdout: LineBuffer
    /// Captured standard error.
    let stderr: LineBuffer

    private let status = NIOLockedValueBox<ExitStatus?>(nil)

    /// Starts `executable`.
    ///
    /// - Parameters:
    ///   - executable: Absolute path (see `TestBinaries`).
    ///   - arguments: Arguments after argv[0].
    ///   - environment: Variables to set (or override) on top of the inherited ones.
    ///   - inheritEnvironment: Whether to start from this process's environment.
    ///   - user: Who it runs as: unprivileged unless a test truly needs root (`ServiceUser`).
    /// - Throws: `HarnessError` if the executable cannot be started.
    init(
        executable: String,
        arguments: [String] = [],
        environment: [String: String] = [:],
        inheritEnvironment: Bool = true,
        user: ServiceUser = .daemon
    ) throws {
        self.executable = executable
        self.arguments = arguments
        self.name = (executable as NSString).lastPathComponent
        let stdout = LineBuffer()
        let stderr = LineBuffer()
        self.stdout = stdout
        self.stderr = stderr

        var env = inheritEnvironment ? ProcessInfo.processInfo.environment : [:]
        env.merge(environment) { _, new in new }

        let outPipe = try Self.makePipe()
        let errPipe = try Self.makePipe()
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            close(outPipe.write)
            close(errPipe.write)
            close(devNull)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, devNull, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe.write, 2)
        _ = LibC.addCloseFrom?(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&defaultSignals, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        // setpriv execs the program in place: the pid (and process group) stay the same.
        let command = user.commandPrefix + [executable] + arguments
        let argv = command.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        guard result == 0 else {
            close(outPipe.read)
            close(errPipe.read)
            throw HarnessError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
        Self.startReader(fd: outPipe.read, into: stdout, name: "\(name)[\(pid)] stdout")
        Self.startReader(fd: errPipe.read, into: stderr, name: "\(name)[\(pid)] stderr")
    }

    deinit {
        if exitStatus == nil {
            Glibc.kill(-pid, SIGKILL)
            Glibc.kill(pid, SIGKILL)
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0, errno == EINTR {}
        }
    }

    /// The captured lines of `stream`.
    func output(_ stream: Stream) -> LineBuffer {
        switch stream {
        case .stdout: stdout
        case .stderr: stderr
        }
    }

    /// Waits for a line on `stream`, from line `index` on, that satisfies `predicate`.
    ///
    /// - Returns: The line and its index (pass `index + 1` to wait for a later one).
    /// - Throws: `HarnessError` on timeout or when the stream closes without such a line;
    ///   the message shows the recent output of both streams and the exit status.
    @discardableResult
    func waitForLine(
        on stream: Stream = .stdout,
        from index: Int = 0,
        timeout: Duration = .seconds(10),
        matching predicate: (String) -> Bool
    ) async throws -> (line: String, index: Int) {
        let buffer = output(stream)
        var found: (line: String, index: Int)?
        var checked = index
        try await eventually("a matching line on \(name)'s \(stream)", timeout: timeout, context: { self.report() }) {
            // Read `isClosed` first: lines seen after it are then all there will be.
            let closed = buffer.isClosed
            for line in buffer.lines(from: checked) {
                if predicate(line) {
                    found = (line, checked)
                    return true
                }
                checked += 1
            }
            if closed {
                throw HarnessError("\(name)'s \(stream) closed without a matching line\n\(report())")
            }
            return false
        }
        return found!
    }

    /// Waits for a line on `stream` containing `text`.
    @discardableResult
    func waitForLine(
        on stream: Stream = .stdout,
        containing text: String,
        from index: Int = 0,
        timeout: Duration = .seconds(10)
    ) async throws -> (line: String, index: Int) {
        try await waitForLine(on: stream, from: index, timeout: timeout) { $0.contains(text) }
    }

    /// Sends `signal` to the process (or to its whole process group).
    func signal(_ signal: Int32, toGroup: Bool = false) {
        guard exitStatus == nil else { return }
        Glibc.kill(toGroup ? -pid : pid, signal)
    }

    /// Sends SIGTERM.
    func terminate() { signal(SIGTERM) }

    /// Sends SIGKILL to the whole process group.
    func kill() { signal(SIGKILL, toGroup: true) }

    /// How the process ended, or `nil` while it runs. Reaps it when it has ended.
    var exitStatus: ExitStatus? {
        status.withLockedValue { status in
            if status == nil {
                var raw: Int32 = 0
                let r = waitpid(pid, &raw, WNOHANG)
                if r == pid {
                    status = Self.decode(raw)
                } else if r < 0, errno == ECHILD {
                    // Reaped elsewhere (SIGCHLD ignored or a foreign waitpid): status unknown.
                    status = .exited(-1)
                }
            }
            return status
        }
    }

    /// Whether the process still runs.
    var isRunning: Bool { exitStatus == nil }

    /// Waits until the process has exited.
    /// - Throws: `HarnessError` if it still runs after `timeout` (it is left running).
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(10)) async throws -> ExitStatus {
        try await eventually("\(name) to exit", timeout: timeout, context: { self.report() }) { exitStatus != nil }
        return exitStatus!
    }

    /// Waits until both output streams are closed, so every line is captured.
    func waitForOutputClosed(timeout: Duration = .seconds(10)) async throws {
        try await eventually("\(name)'s output to close", timeout: timeout, context: { self.report() }) {
            stdout.isClosed && stderr.isClosed
        }
    }

    /// Sends SIGKILL if still running and waits for the exit; for cleanup.
    func stop() async throws {
        if isRunning {
            kill()
            try await waitForExit()
        }
    }

    /// Command, status and recent output, for failure messages.
    func report(includingStdout: Bool = true) -> String {
        let header = "\(name) [pid \(pid)] \(arguments.joined(separator: " ")) — \(exitStatus.map(\.description) ?? "running")"
        let out = includingStdout ? "\nstdout:\n\(stdout.tail())" : ""
        return header + out + "\nstderr:\n\(stderr.tail())"
    }

    // MARK: - Private

    /// A pipe whose ends are close-on-exec from the start, so a process spawned by a
    /// concurrent test cannot inherit them (which would delay our EOF).
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard LibC.pipe2(&fds, O_CLOEXEC) == 0 else {
            throw HarnessError("pipe2 failed: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    /// A thread that blocks in `read(2)` until EOF; the fd is closed when it ends.
    private static func startReader(fd: Int32, into buffer: LineBuffer, name: String) {
        let thread = Thread {
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    chunk.withUnsafeBytes { buffer.append(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                } else if n < 0, errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fd)
            buffer.close()
        }
        thread.name = name
        thread.start()
    }

    /// Decodes a `waitpid` status (the `WIFEXITED`/`WTERMSIG` macros are not imported).
    private static func decode(_ raw: Int32) -> ExitStatus {
        let signal = raw & 0x7F
        return signal == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(signal)
    }
}

/// glibc functions the `Glibc` module hides behind `_GNU_SOURCE`, looked up at run time.
private enum LibC {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// `pipe2(2)` (glibc ≥ 2.9).
    static let pipe2: Pipe2 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else {
            fatalError("glibc has no pipe2")
        }
        return unsafeBitCast(symbol, to: Pipe2.self)
    }()

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc ≥ 2.34): the child keeps only 0, 1, 2.
    static let addCloseFrom: AddCloseFrom? = {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
            .map { unsafeBitCast($0, to: AddCloseFrom.self) }
    }()
}
