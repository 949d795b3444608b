// Owns the sockets of one connection attempt until it hands the connected one over.

import CLinux
import Glibc
import VKBCore
import VKBLoop

/// One connection attempt on the loop: resolves the host, then tries each address in
/// turn with a non-blocking connect, all within one timeout. Completes once, on the loop,
/// with the connected socket (options set, not registered with the loop) or the reason
/// for the failure; never after `cancel()`.
package final class ConnectAttempt {
    package typealias Completion = (Result<TCPSocket, Failure>) -> Void

    /// Why the attempt failed, as the log says it.
    package struct Failure: Error, Equatable {
        package var reason: String
    }

    private let loop: EpollLoop
    private let host: String
    private let port: Int
    private let timeoutMilliseconds: Int
    private let configure: (TCPSocket) throws(SystemCallError) -> Void
    private var completion: Completion?
    private var addresses: [TCPAddress] = []
    private var nextAddress = 0
    private var socket: TCPSocket?
    private var registration: EpollLoop.Registration?
    private var timeout: EpollLoop.Timer?
    private var lastFailure: String?

    /// `configure` sets the socket options before connecting. Nothing happens before `start()`.
    package init(
        host: String, port: Int, timeoutMilliseconds: Int, loop: EpollLoop,
        configure: @escaping (TCPSocket) throws(SystemCallError) -> Void,
        completion: @escaping Completion
    ) {
        self.loop = loop
        self.host = host
        self.port = port
        self.timeoutMilliseconds = timeoutMilliseconds
        self.configure = configure
        self.completion = completion
    }

    /// Starts; the completion may run before this returns (a numeric address that
    /// connects at once or fails at once).
    package func start() {
        let timeoutMilliseconds = self.timeoutMilliseconds
        timeout = loop.schedule(in: .milliseconds(timeoutMilliseconds)) { [self] in
            timeout = nil
            finish(.failure(Failure(reason: "connect timed out")))
        }
        HostResolver.resolve(host, port: port, on: loop) { [self] result in
            guard completion != nil else { return }
            switch result {
            case .success(let found) where !found.isEmpty:
                addresses = found
                tryNextAddress()
            case .success:
                finish(.failure(Failure(reason: "cannot resolve \(host): no address")))
            case .failure(let error):
                finish(.failure(Failure(reason: error.description)))
            }
        }
    }

    /// Gives up: closes what is open; the completion is never called.
    package func cancel() {
        completion = nil
        release()
    }

    private func release() {
        if let timeout { loop.cancel(timeout) }
        timeout = nil
        if let registration { loop.deregister(registration) }
        registration = nil
        socket?.close()
        socket = nil
    }

    private func finish(_ result: Result<TCPSocket, Failure>) {
        guard let completion else { return }
        self.completion = nil
        if case .success = result { socket = nil }
        release()
        completion(result)
    }

    private func tryNextAddress() {
        while completion != nil, nextAddress < addresses.count {
            let address = addresses[nextAddress]
            nextAddress += 1
            let candidate: TCPSocket
            do {
                candidate = try TCPSocket(family: address.family)
                try configure(candidate)
            } catch {
                lastFailure = "\(error)"
                continue
            }
            switch candidate.connect(to: address) {
            case .done:
                connected(candidate)
                return
            case .wouldBlock:
                do {
                    socket = candidate
                    registration = try loop.register(candidate.fd, events: .writable) { [self] _ in
                        connectFinished()
                    }
                    return
                } catch {
                    socket = nil
                    lastFailure = "\(error)"
                }
            case .failed(let code):
                lastFailure = SystemCallError.reason(code)
            }
        }
        finish(.failure(Failure(reason: lastFailure ?? "cannot resolve \(host): no address")))
    }

    private func connectFinished() {
        guard let candidate = socket else { return }
        if let registration { loop.deregister(registration) }
        registration = nil
        socket = nil
        let code = candidate.pendingError()
        if code == 0 {
            connected(candidate)
        } else {
            lastFailure = SystemCallError.reason(code)
            candidate.close()
            tryNextAddress()
        }
    }

    private func connected(_ candidate: TCPSocket) {
        if candidate.isSelfConnected {
            candidate.close()
            lastFailure = Self.selfConnectReason
            tryNextAddress()
            return
        }
        socket = candidate
        finish(.success(candidate))
    }

    /// The reason logged for a connection that reached its own port.
    package static let selfConnectReason = "nothing is listening (the connection reached its own port)"
}
