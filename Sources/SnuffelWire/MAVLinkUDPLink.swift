/// A MAVLink link over UDP, as an autopilot or a ground station offers it (ArduPilot's and
/// PX4's `udpout` to a companion computer, or mavproxy's outputs): datagrams in, decoded
/// into frames; frames out to whoever last sent us something.
///
/// The link owns its socket and closes it when released.
public final class MAVLinkUDPLink {
    /// The local address, `host:port`.
    public let endpoint: String
    /// The port the link listens on (the one asked for, or the one the system chose for 0).
    public let port: UInt16
    private let descriptor: Int32
    private var decoder = MAVLinkFrameDecoder()
    private var peer: SocketAddress?

    /// Opens the link.
    /// - Parameters:
    ///   - host: The local IPv4 address to listen on (`127.0.0.1`, or `0.0.0.0` for all).
    ///   - port: The UDP port (14550 is the ground-station default; 0 for any free port).
    /// - Throws: ``ByteStreamError`` naming the address and the reason.
    public init(host: String = "0.0.0.0", port: UInt16) throws(ByteStreamError) {
        switch system_bindUDP(host: host, port: port) {
        case .success(let (descriptor, actual)):
            self.descriptor = descriptor
            self.port = actual
            endpoint = "udp:\(host):\(actual)"
        case .failure(let error):
            throw ByteStreamError(endpoint: "udp:\(host):\(port)", reason: .openFailed(code: error.code, message: error.message))
        }
    }

    deinit { system_close(descriptor) }

    /// Whether a peer has sent something, so that ``send(_:)`` has somewhere to go.
    public var hasPeer: Bool { peer != nil }

    /// Waits up to `timeoutMilliseconds` for datagrams and returns the frames they held
    /// (garbage and bad CRCs are skipped by the decoder and counted there).
    /// - Throws: ``ByteStreamError`` when the socket fails.
    public func receive(timeoutMilliseconds: Int) throws(ByteStreamError) -> [MAVLinkFrame] {
        var frames: [MAVLinkFrame] = []
        var wait = Int32(clamping: timeoutMilliseconds)
        while true {
            switch system_waitReadable(descriptor, timeoutMilliseconds: wait) {
            case .failure(let error):
                throw ByteStreamError(endpoint: endpoint, reason: .ioFailed(code: error.code, message: error.message))
            case .success(false):
                return frames
            case .success(true):
                switch system_receiveFrom(descriptor, capacity: 65_536) {
                case .failure(let error):
                    throw ByteStreamError(endpoint: endpoint, reason: .ioFailed(code: error.code, message: error.message))
                case .success(let (bytes, sender)):
                    peer = sender
                    decoder.append(contentsOf: bytes)
                    while let frame = decoder.next() { frames.append(frame) }
                }
            }
            wait = 0  // take what else has arrived, without waiting again
        }
    }

    /// Sends bytes (one or more frames) in one datagram to the last sender.
    /// - Returns: False when no peer is known yet (nothing is sent).
    /// - Throws: ``ByteStreamError`` when sending fails.
    @discardableResult
    public func send(_ bytes: [UInt8]) throws(ByteStreamError) -> Bool {
        guard let peer else { return false }
        if case .failure(let error) = system_sendTo(descriptor, bytes, peer) {
            throw ByteStreamError(endpoint: endpoint, reason: .ioFailed(code: error.code, message: error.message))
        }
        return true
    }
}
