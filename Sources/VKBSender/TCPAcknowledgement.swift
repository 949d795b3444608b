import CVKBSocket
import Glibc
import NIOCore

/// Reads how many bytes the peer's kernel has acknowledged on a connected channel,
/// from `TCP_INFO` (`tcpi_bytes_acked`, Linux 4.1+).
enum TCPAcknowledgement {
    /// The kernel's count of bytes acknowledged so far, or nil when the socket is gone.
    /// Completes at once when called on the channel's event loop.
    static func bytesAcknowledged(on channel: Channel) -> EventLoopFuture<UInt64?> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let info: EventLoopFuture<vkb_tcp_info> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(IPPROTO_TCP), name: SocketOptionName(TCP_INFO))
        return info.map { Optional($0.tcpi_bytes_acked) }.recover { _ in nil }
    }
}
