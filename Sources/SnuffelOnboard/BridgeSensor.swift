import BridgeProtocol
import SnuffelCore
import SnuffelHardware
import SnuffelWire

/// The bridge microcontroller as a part the supervisor reads: its frames stream at the
/// scan rate it was told, and each poll takes what has arrived.
///
/// Starting it (again) connects (the serial device, or the emulator's TCP port), asks for
/// the rate and the channels the payload uses, and forgets the clock mapping. The bridge's
/// µs clock is put on the companion's by the smallest offset seen (the least-delayed
/// frame). Two seconds without a frame is a fault, like a part that stops answering.
final class BridgeSensor: PolledSensor {
    let name: String
    let channels: [UInt16]
    let period: UInt64
    /// Samples stream; the supervisor does not judge them stuck by repeats.
    let stuckAfter: Int? = nil
    private let endpoint: String
    private let open: () throws(ByteStreamError) -> any ByteStream
    private let clock: any HardwareClock
    private let rate: UInt16
    private let mask: UInt16
    private var mapping: BridgeSampleMapping
    private var stream: (any ByteStream)?
    private var decoder = BridgeDecoder()
    private var offset: Int64?
    private var lastFrame: UInt64 = 0
    private var sequence: UInt32 = 0
    /// Commands not yet acknowledged, in order; the first is sent (again) until its
    /// acknowledgement comes. A bridge still booting drops what it is sent, so the first is
    /// sent only once the bridge has sent a frame.
    private var unacknowledged: [BridgeCommand] = []
    private var sent: (sequence: UInt32, at: UInt64, attempts: Int)?
    private var heard = false
    /// How long without a frame before the bridge counts as silent, µs.
    static let silence: UInt64 = 2_000_000

    init(
        id: String, endpoint: String, open: @escaping () throws(ByteStreamError) -> any ByteStream, clock: any HardwareClock,
        rate: Int, mapping: BridgeSampleMapping
    ) {
        name = "\(id) (bridge at \(endpoint))"
        self.endpoint = endpoint
        self.open = open
        self.clock = clock
        self.rate = UInt16(clamping: rate)
        self.mapping = mapping
        var mask: UInt16 = 0
        for (bridgeChannel, channel) in mapping.channels.enumerated() where channel != nil { mask |= 1 << UInt16(bridgeChannel) }
        self.mask = mask
        channels = mapping.channels.compactMap { $0 }
        // Poll a few times per frame interval, at most every 20 ms.
        period = max(20_000, min(200_000, 1_000_000 / UInt64(max(1, rate)) / 2))
    }

    private func failure(_ error: ByteStreamError, _ operation: String) -> SensorError {
        switch error.reason {
        case .openFailed(let code, _), .ioFailed(let code, _):
            return .bus(HardwareError(DeviceLocation(path: endpoint), operation: operation, errno: Errno(rawValue: code), detail: error.description))
        case .closed:
            return .invalidResponse(DeviceLocation(path: endpoint), "the bridge closed the connection")
        }
    }

    func start() throws(SensorError) {
        stream = nil
        decoder = BridgeDecoder()
        offset = nil
        do { stream = try open() } catch { throw failure(error, "open") }
        unacknowledged = [.setRate(hertz: rate), .enableChannels(mask: mask)]
        sent = nil
        heard = false
        lastFrame = clock.now()
    }

    /// Sends the first unacknowledged command when none is out, or again after 300 ms.
    private func sendCommand(on stream: any ByteStream, now: UInt64) throws(SensorError) {
        guard let command = unacknowledged.first else { return }
        if let sent, now &- sent.at < 300_000 { return }
        let attempts = (sent?.attempts ?? 0) + 1
        guard attempts <= 10 else {
            throw .invalidResponse(DeviceLocation(path: endpoint), "the bridge does not acknowledge \(command) after 10 tries")
        }
        sequence &+= 1
        do {
            try stream.write(BridgeFrame(sequence: sequence, time: 0, message: .command(command)).encoded())
        } catch {
            self.stream = nil
            throw failure(error, "write")
        }
        sent = (sequence, now, attempts)
    }

    func read(air: (temperature: Double, humidity: Double)?) throws(SensorError) -> SensorReading {
        guard let stream else { throw .invalidResponse(DeviceLocation(path: endpoint), "not connected") }
        let bytes: [UInt8]
        do { bytes = try stream.read(maximumCount: 65_536, timeoutMilliseconds: 0) } catch {
            self.stream = nil
            throw failure(error, "read")
        }
        decoder.append(contentsOf: bytes)
        var samples: [Sample] = []
        let now = clock.now()
        while true {
            let frame: BridgeFrame?
            do { frame = try decoder.next() } catch {
                throw .invalidResponse(DeviceLocation(path: endpoint), "\(error)")
            }
            guard let frame else { break }
            lastFrame = now
            heard = true
            if case .acknowledgement(let ack) = frame.message, let out = sent, ack.commandSequence == out.sequence {
                guard ack.result == .ok else {
                    throw .invalidResponse(DeviceLocation(path: endpoint), "the bridge refused \(unacknowledged.first.map { "\($0)" } ?? "a command"): \(ack.result)")
                }
                unacknowledged.removeFirst()
                sent = nil
            }
            guard case .samples(let block) = frame.message, block.scanCount > 0 else { continue }
            // The frame leaves after its last scan: arrival minus that scan's bridge time.
            let lastScan = frame.time &+ UInt64(block.scanCount - 1) &* UInt64(block.intervalMicroseconds)
            let candidate = Int64(clamping: now) &- Int64(clamping: lastScan)
            offset = min(offset ?? candidate, candidate)
            mapping.timeOffset = offset ?? candidate
            mapping.append(block, time: frame.time, to: &samples)
        }
        if heard { try sendCommand(on: stream, now: now) }
        if samples.isEmpty && now &- lastFrame > Self.silence {
            throw .timeout(DeviceLocation(path: endpoint), "no frame from the bridge for \(Self.silence / 1_000_000) s")
        }
        return .samples(samples)
    }
}
