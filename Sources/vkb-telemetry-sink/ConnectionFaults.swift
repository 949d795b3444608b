/// How the sink misbehaves on every connection, to test how a client copes.
struct ConnectionFaults: Sendable, Equatable {
    /// Close (FIN) after this many packets; later bytes are not reported. Bytes the client
    /// sent that the sink has not read yet turn the FIN into an RST (kernel rule), as with
    /// any server that closes.
    var closeAfter: Int?
    /// Reset (RST, via `SO_LINGER` 0) after this many packets.
    var resetAfter: Int?
    /// Never read: the client's send buffer fills up.
    var stall = false
    /// Send `chatterBytes` on connect and after every packet.
    var chatter = false

    /// Noise a server might send; a client must drain it and ignore it.
    static let chatterBytes: [UInt8] = Array("chatter\n".utf8)

    /// Rejects combinations that cannot work.
    func validate() throws(SinkError) {
        if let n = closeAfter, n < 0 { throw .badArgument("--close-after \(n): expected a count of 0 or more") }
        if let n = resetAfter, n < 0 { throw .badArgument("--reset-after \(n): expected a count of 0 or more") }
        if closeAfter != nil, resetAfter != nil {
            throw .badArgument("--close-after and --reset-after exclude each other")
        }
        if stall, closeAfter != nil || resetAfter != nil {
            throw .badArgument("--stall never reads, so it cannot count packets for --close-after/--reset-after")
        }
    }
}
