/// Winsen ZE07 electrochemical gas modules (NH3, H2S, CO, ...) on a UART (ZE03: the same
/// frames by open-source drivers, its mode-switch commands not verified; see below).
///
/// From the Winsen ZE07-CO user manual (v1.2; "Communication protocol", Tables 5–8, and
/// "Check sum and calculation") and the ZE07-CH2O manual (v1.8, Tables 6–8): 9600 baud
/// 8N1; every frame is 9 bytes, starting with 0xFF and ending with a checksum
/// `(~(byte1 + … + byte7)) + 1` (mod 256), the manuals' `FucCheckSum`.
///
/// | frame | bytes |
/// | --- | --- |
/// | switch to question-and-answer mode | FF 01 78 41 00 00 00 00 46 |
/// | switch to active upload mode | FF 01 78 40 00 00 00 00 47 |
/// | read concentration | FF 01 86 00 00 00 00 00 79 |
/// | answer | FF 86 Chi Clo 00 00 00 00 CS — C: concentration in the module's unit |
/// | active upload | FF gas unit decimals Chi Clo Rhi Rlo CS — C: concentration, R: full range |
///
/// The answer carries the concentration in bytes 2–3 on the ZE07-CO and the ZE03, as
/// independent open-source drivers of both read it (the copy of the ZE07-CO manual's
/// Table 8 that could be checked was garbled, the commands and checksum were not); the
/// formaldehyde modules (ZE07-CH2O, ZE08-CH2O) differ: µg/m³ in bytes 2–3 and ppb in bytes
/// 6–7, which this driver does not read. The active-upload layout (gas code, unit code,
/// number of decimals, concentration, full range) is the one independent drivers decode;
/// the manual table for it was not available to check. Open-source ZE03 drivers switch
/// modes with `78 04` (question and answer) and `78 03` (active upload) rather than the
/// ZE07's `78 41` and `78 40`; not checked against a ZE03 manual.
///
/// The unit and resolution of the concentration differ between gases (ppm, 0.1 ppm, ppb):
/// ``resolution`` says how much one count is.
public final class WinsenModule {
    /// The frames the driver sends.
    public enum Frame {
        public static let questionAndAnswerMode: [UInt8] = [0xFF, 0x01, 0x78, 0x41, 0x00, 0x00, 0x00, 0x00, 0x46]
        public static let activeMode: [UInt8] = [0xFF, 0x01, 0x78, 0x40, 0x00, 0x00, 0x00, 0x00, 0x47]
        public static let readConcentration: [UInt8] = [0xFF, 0x01, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0x79]
    }

    /// The checksum of a 9-byte frame: the two's complement of the sum of bytes 1–7.
    public static func checksum(_ frame: [UInt8]) -> UInt8 {
        var sum: UInt8 = 0
        for byte in frame.dropFirst().prefix(7) { sum &+= byte }
        return ~sum &+ 1
    }

    /// One reading.
    public struct Reading: Sendable, Hashable {
        /// Concentration in the module's unit times ``WinsenModule/resolution``.
        public var concentration: Double
        /// The raw count.
        public var raw: UInt16
        /// From an active upload: the gas code and full range (counts); nil from an answer.
        public var gasCode: UInt8?
        public var fullRange: UInt16?
    }

    /// The port.
    public let port: any SerialPortAccess
    /// Units per count (e.g. 0.1 for a ZE07-CO's 0.1 ppm, 1 for ppb modules).
    public let resolution: Double
    /// How long to wait for a frame.
    public let timeoutMilliseconds: Int

    /// A driver on a port opened at 9600 8N1.
    public init(port: any SerialPortAccess, resolution: Double = 1, timeoutMilliseconds: Int = 1_000) {
        self.port = port
        self.resolution = resolution
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Where the module is.
    public var location: DeviceLocation { DeviceLocation(path: port.path) }

    private func send(_ frame: [UInt8]) throws(SensorError) {
        do { try port.write(frame) } catch { throw .bus(error) }
    }

    /// Switches the module to question-and-answer mode and discards what it sent before.
    public func useQuestionAndAnswerMode() throws(SensorError) {
        try send(Frame.questionAndAnswerMode)
        do { try port.discardInput() } catch { throw .bus(error) }
    }

    /// Switches the module to active upload mode (one frame a second).
    public func useActiveMode() throws(SensorError) {
        try send(Frame.activeMode)
    }

    /// Asks for the concentration and reads the answer.
    public func read() throws(SensorError) -> Reading {
        try send(Frame.readConcentration)
        while true {
            let frame = try nextFrame()
            // An active upload still in flight after a mode switch is skipped.
            if frame[1] == 0x86 {
                let raw = UInt16(frame[2]) << 8 | UInt16(frame[3])
                return Reading(concentration: Double(raw) * resolution, raw: raw)
            }
        }
    }

    /// Reads the next active upload.
    public func readActiveUpload() throws(SensorError) -> Reading {
        while true {
            let frame = try nextFrame()
            if frame[1] != 0x86 {
                let raw = UInt16(frame[4]) << 8 | UInt16(frame[5])
                return Reading(concentration: Double(raw) * resolution, raw: raw, gasCode: frame[1],
                               fullRange: UInt16(frame[6]) << 8 | UInt16(frame[7]))
            }
        }
    }

    /// The longest run of bytes skipped while looking for a frame start.
    static let maximumSkipped = 64

    /// The next checksum-valid frame: skips bytes until 0xFF (at most 64), then reads 8 more.
    func nextFrame() throws(SensorError) -> [UInt8] {
        var skipped = 0
        while true {
            let first = try readExactly(1)
            guard first[0] == 0xFF else {
                skipped += 1
                if skipped > Self.maximumSkipped { throw .invalidResponse(location, "no frame start (0xFF) in \(skipped) bytes") }
                continue
            }
            let frame = first + (try readExactly(8))
            let expected = Self.checksum(frame)
            guard frame[8] == expected else {
                throw .checksumMismatch(location, what: "frame \(hexBytes(frame))", received: frame[8], expected: expected)
            }
            return frame
        }
    }

    private func readExactly(_ count: Int) throws(SensorError) -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try port.read(count, timeoutMilliseconds: timeoutMilliseconds) } catch { throw .bus(error) }
        guard bytes.count == count else {
            throw .timeout(location, "\(bytes.count) of \(count) bytes within \(timeoutMilliseconds) ms")
        }
        return bytes
    }
}
