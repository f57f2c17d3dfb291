/// A simulated device on a serial line: it takes the bytes written to it and offers bytes
/// to read, each becoming available at a time.
public protocol SimulatedSerialDevice: AnyObject {
    /// The part's name.
    var partName: String { get }
    /// Injected faults.
    var faults: TwinFaults { get set }
    /// Takes written bytes.
    func receive(_ bytes: [UInt8], at time: UInt64)
    /// Bytes available by `time`, removed from the device's output.
    func transmit(upTo count: Int, at time: UInt64) -> [UInt8]
    /// When the next byte after `time` will be available, if ever.
    func nextByteTime(after time: UInt64) -> UInt64?
    /// Returns to the power-on state.
    func powerOn(at time: UInt64)
}

/// A serial port to a simulated device, on a simulated clock: reads wait (instantly) for
/// the device's bytes up to their timeout; writes and reads are recorded in the clock's
/// trace. Unplugged, every call fails with `EIO` as a USB adapter's port does.
public final class SimulatedSerialPort: SerialPortAccess {
    public let path: String
    public let clock: SimulatedClock
    public let device: any SimulatedSerialDevice
    /// Whether the cable is pulled.
    public private(set) var isUnplugged = false

    /// A port to `device`, powered on now.
    public init(path: String = "sim:tty", device: any SimulatedSerialDevice, clock: SimulatedClock) {
        self.path = path
        self.device = device
        self.clock = clock
        device.powerOn(at: clock.now())
    }

    /// Pulls the cable.
    public func unplug() { isUnplugged = true }

    /// Puts the cable back; the device powers on afresh.
    public func replug() {
        isUnplugged = false
        device.powerOn(at: clock.now())
    }

    private func checkPlugged(_ operation: String) throws(HardwareError) {
        if isUnplugged { throw HardwareError(DeviceLocation(path: path), operation: operation, errno: .ioError) }
    }

    public func write(_ bytes: [UInt8]) throws(HardwareError) {
        try checkPlugged("write")
        clock.trace.append(.serialWrite(bytes))
        device.receive(bytes, at: clock.now())
    }

    public func read(_ count: Int, timeoutMilliseconds: Int) throws(HardwareError) -> [UInt8] {
        try checkPlugged("read")
        let deadline = clock.now() + UInt64(max(0, timeoutMilliseconds)) * 1000
        var bytes = device.transmit(upTo: count, at: clock.now())
        while bytes.count < count {
            guard let next = device.nextByteTime(after: clock.now()), next <= deadline else {
                clock.advance(microseconds: deadline - min(deadline, clock.now()))
                break
            }
            clock.advance(microseconds: max(next, clock.now()) - clock.now())
            bytes += device.transmit(upTo: count - bytes.count, at: clock.now())
        }
        if !bytes.isEmpty { clock.trace.append(.serialRead(bytes)) }
        return bytes
    }

    public func discardInput() throws(HardwareError) {
        try checkPlugged("flush")
        _ = device.transmit(upTo: Int.max, at: clock.now())
    }
}

/// A simulated Winsen ZE03/ZE07 module: the frames of ``WinsenModule``, checksums, the
/// answer about 10 ms after a question (a byte every 1.04 ms at 9600 baud), active upload
/// once a second, and faults: silence (nack), a wrong checksum, stuck value, slowness,
/// and garbage injected into its output. The concentration is the air's `gas` in ppm,
/// divided by the resolution.
public final class WinsenTwin: SimulatedSerialDevice {
    public var partName: String { "Winsen ZE07 (\(gas))" }
    public var faults = TwinFaults()
    /// The gas the module measures (a key of ``Air/gases``) and its gas code in uploads.
    public let gas: String
    public let gasCode: UInt8
    /// Units per count.
    public let resolution: Double
    /// The air around the module, by time in µs.
    public var environment: (UInt64) -> Air
    /// Whether the module is in active upload mode (its power-on mode).
    public private(set) var activeMode = true
    private var output: [(time: UInt64, byte: UInt8)] = []
    private var input: [UInt8] = []
    private var nextUpload: UInt64 = 0
    private var last: UInt16?

    /// A module for `gas`.
    public init(gas: String = "co", gasCode: UInt8 = 0x04, resolution: Double = 0.1,
                environment: @escaping (UInt64) -> Air = { _ in Air() }) {
        self.gas = gas
        self.gasCode = gasCode
        self.resolution = resolution
        self.environment = environment
    }

    /// Puts bytes on the line at once (noise, a half frame).
    public func injectGarbage(_ bytes: [UInt8], at time: UInt64) {
        output += bytes.map { (time, $0) }
    }

    public func powerOn(at time: UInt64) {
        activeMode = true
        output = []
        input = []
        nextUpload = time + 1_000_000
        last = nil
    }

    private func count(at time: UInt64) -> UInt16 {
        let fresh = UInt16(min(65535, max(0, (environment(time).ppm(gas) / resolution).rounded())))
        let value = faults.stuck ? (last ?? fresh) : fresh
        last = value
        return value
    }

    private func emit(_ body: [UInt8], at time: UInt64) {
        guard !faults.nack else { return }
        var frame = [0xFF] + body
        frame.append(WinsenModule.checksum(frame) ^ (faults.badChecksum ? 0x5A : 0))
        let start = time + UInt64(10_000 * max(0, faults.slowdown))
        for (i, byte) in frame.enumerated() { output.append((start + UInt64(i) * 1_042, byte)) }
    }

    private func uploadsDue(by time: UInt64) {
        while activeMode && nextUpload <= time {
            let c = count(at: nextUpload)
            emit([gasCode, 0x03, 0x01, UInt8(c >> 8), UInt8(c & 0xFF), 0x13, 0x88], at: nextUpload - 10_000)
            nextUpload += 1_000_000
        }
    }

    public func receive(_ bytes: [UInt8], at time: UInt64) {
        uploadsDue(by: time)
        input += bytes
        while input.count >= 9 {
            guard input[0] == 0xFF else { input.removeFirst(); continue }
            let frame = Array(input.prefix(9))
            input.removeFirst(9)
            guard WinsenModule.checksum(frame) == frame[8] else { continue }
            switch (frame[2], frame[3]) {
            case (0x78, 0x41): activeMode = false
            case (0x78, 0x40):
                activeMode = true
                nextUpload = time + 1_000_000
            case (0x86, _):
                // ZE07-CO / ZE03 answer: the concentration in bytes 2–3, bytes 4–7 reserved.
                let c = count(at: time)
                emit([0x86, UInt8(c >> 8), UInt8(c & 0xFF), 0, 0, 0, 0], at: time)
            default: break
            }
        }
    }

    public func transmit(upTo count: Int, at time: UInt64) -> [UInt8] {
        uploadsDue(by: time)
        var bytes: [UInt8] = []
        while bytes.count < count, let first = output.first, first.time <= time {
            bytes.append(first.byte)
            output.removeFirst()
        }
        return bytes
    }

    public func nextByteTime(after time: UInt64) -> UInt64? {
        uploadsDue(by: time)
        if let first = output.first { return max(first.time, time) }
        return activeMode ? nextUpload : nil
    }
}
