import SnuffelHardware
import SnuffelWire

/// Where the daemon's MAVLink frames come from and go to: a UDP port, or a serial port to
/// the autopilot's TELEM port.
public protocol MAVLinkTransport: AnyObject {
    /// Says where, e.g. `udp:0.0.0.0:14550` or `/dev/serial0 at 921600 baud`.
    var endpoint: String { get }
    /// Waits up to `timeoutMilliseconds` and returns the frames that arrived.
    func receiveFrames(timeoutMilliseconds: Int) throws -> [MAVLinkFrame]
    /// Sends the bytes of one or more frames.
    func sendFrames(_ bytes: [UInt8]) throws
}

extension MAVLinkUDPLink: MAVLinkTransport {
    public func receiveFrames(timeoutMilliseconds: Int) throws -> [MAVLinkFrame] {
        try receive(timeoutMilliseconds: timeoutMilliseconds)
    }

    public func sendFrames(_ bytes: [UInt8]) throws {
        try send(bytes)
    }
}

/// MAVLink over a serial port (an autopilot's TELEM port, e.g. ArduPilot's `SERIALn_PROTOCOL
/// = 2` at 921600 baud, or PX4's `MAV_1_CONFIG`), through libserialport.
public final class MAVLinkSerialLink: MAVLinkTransport {
    public let endpoint: String
    private let port: any SerialPortAccess
    private var decoder = MAVLinkFrameDecoder()

    /// Opens the port.
    /// - Throws: ``HardwareError`` naming the device and the reason.
    public convenience init(device: String, baudRate: Int) throws(HardwareError) {
        self.init(port: try SerialPort(path: device, settings: SerialSettings(baudRate: baudRate)), baudRate: baudRate)
    }

    /// Uses a port already open (a simulated one in tests).
    public init(port: any SerialPortAccess, baudRate: Int) {
        self.port = port
        endpoint = "\(port.path) at \(baudRate) baud"
    }

    public func receiveFrames(timeoutMilliseconds: Int) throws -> [MAVLinkFrame] {
        var frames: [MAVLinkFrame] = []
        // Wait for the first byte only, then take what else has arrived.
        var bytes = try port.read(1, timeoutMilliseconds: timeoutMilliseconds)
        if !bytes.isEmpty, let real = port as? SerialPort { bytes += try real.readAvailable(4096) }
        decoder.append(contentsOf: bytes)
        while let frame = decoder.next() { frames.append(frame) }
        return frames
    }

    public func sendFrames(_ bytes: [UInt8]) throws {
        try port.write(bytes)
    }
}
