import SnuffelCore
@testable import SnuffelWire

/// What a ULog reader produced: records, then either the end (with the bytes left over)
/// or an error.
struct ULogReadResult: Equatable {
    var records: [ULogRecord] = []
    var truncatedByteCount: Int?
    var error: ULogError?
}

/// A payload configuration longer than one multi-info message, with characters of
/// several UTF-8 lengths so that splitting must respect character boundaries.
let ulogPayloadTOML: String = {
    var text = "# Snuffel reference payload — µg/m³, Ø 12 mm inlet, 🚁\nname = \"snuffel-reference\"\n"
    for i in 0..<45 {
        text += "[[channel]]\nid = \"ch\(i)\"\nsensor = \"Sensirion SGP41 ✓\"\n"
    }
    return text
}()

let ulogSignaturesTOML = "[[compound]]\nname = \"methylamine\"\n"

/// A detection whose real numbers are exact in `Float`, so that it comes back equal.
func ulogDetection(sequence: Int, onset: UInt64, signatureClass: Int?) -> Detection {
    Detection(
        sequence: sequence, onset: onset, peak: onset + 2_000_000, end: onset + 9_000_000,
        channels: [
            ChannelEvidence(channel: 0, peakExcess: 0.5, peakSigma: 185, area: 12.25, hit: true, coverage: 1, rejectedInWindow: 0),
            ChannelEvidence(channel: 3, peakExcess: 42, peakSigma: 471.5, area: 300, hit: true, coverage: 0.75, rejectedInWindow: 2),
        ],
        signatureClass: signatureClass, confidence: 0.4375, threatConfidence: 0.84375, isConfounder: signatureClass == nil,
        isAlert: signatureClass != nil,
        compounds: [CompoundEstimate(compound: 2, dose: 8.5, meanPPM: 0.375), CompoundEstimate(compound: 5, dose: 1, meanPPM: 0.0625)],
        scores: [ClassScore(signatureClass: 1, misfit: 0.125), ClassScore(signatureClass: 4, misfit: 0.5)],
        residual: 0.140625, snr: 471.5)
}

/// A small log of every topic, and the data records it must give back in order.
func makeULogFixture(syncInterval: Int = 512) -> (bytes: [UInt8], data: [ULogRecord]) {
    var encoder = ULogEncoder(
        startTime: 1_000, channelIDs: ["voc_raw", "pid", "nh3"], payloadTOML: ulogPayloadTOML,
        signaturesTOML: ulogSignaturesTOML, calibrationTOML: [(channelID: "pid", text: "offset = 3 # PID zero, mV\n")],
        info: [(key: "snuffel_version", value: "0.1")], syncInterval: syncInterval)
    var expected: [ULogRecord] = []
    var health = PipelineHealth()
    for step in 0..<6 {
        let t = UInt64(2_000_000 + step * 100_000)
        for channel in 0..<3 {
            let sample = Sample(channel: UInt16(channel), time: t + UInt64(channel), value: Double(step) * 1.1 - Double(channel) / 3, status: UInt16(step))
            encoder.append(sample)
            expected.append(.sample(sample))
        }
        let pose = ULogPose(
            time: t, latitude: 52.090_712_345_6, longitude: 5.121_412_345_6, altitude: 41.25, roll: 0.125, pitch: -0.25,
            yaw: 3.0, velocityNorth: 4.5, velocityEast: -1.5, velocityDown: 0.25, gpsTime: 1_717_243_200_000_000 + t)
        encoder.append(pose)
        expected.append(.pose(pose))
        if step == 2 {
            let wind = ULogWind(time: t, north: 1.5, east: -2.25, down: 0)
            encoder.append(wind)
            expected.append(.wind(wind))
            let clock = ULogClock(time: t, utc: 1_717_243_200_000_000 + t)
            encoder.append(clock)
            expected.append(.clock(clock))
            let message = ULogLogMessage(level: ULogLogMessage.warning, time: t, text: "channel pid: gap of 3.2 s")
            encoder.append(message)
            expected.append(.logging(message))
        }
        if step == 3 {
            let detection = ulogDetection(sequence: 0, onset: t - 50_000, signatureClass: 2)
            encoder.append(detection)
            expected.append(.detection(detection, isComplete: true))
            let unknown = ulogDetection(sequence: 1, onset: t - 20_000, signatureClass: nil)
            encoder.append(unknown)
            expected.append(.detection(unknown, isComplete: true))
            let tube = ULogTube(
                tube: 3, start: t - 60_000, end: t, latitude: 52.090_712_5, longitude: 5.121_412_5, altitude: 40.5,
                detection: 0, reason: .detection, isComplete: true)
            encoder.append(tube)
            expected.append(.tube(tube))
            let byHand = ULogTube(
                tube: 4, start: t - 10_000, end: t, latitude: 52.25, longitude: 5.5, altitude: 30, detection: nil,
                reason: .operatorRequest, isComplete: false)
            encoder.append(byHand)
            expected.append(.tube(byHand))
            let tagged = ULogLogMessage(level: ULogLogMessage.info, time: t, text: "tagged ✓", tag: 7)
            encoder.append(tagged)
            expected.append(.logging(tagged))
        }
        health.accepted += 3
        health.outOfRange = step
        health.historyOverruns = 1 << 40
        encoder.append(health: health, time: t)
        expected.append(.health(time: t, health))
    }
    return (encoder.takeBytes(), expected)
}

/// Reads bytes given whole, until the end or an error.
func ulogReadWhole(_ bytes: [UInt8], maximumMessageSize: Int = ULogReader.defaultMaximumMessageSize) -> ULogReadResult {
    var reader = ULogReader(bytes: bytes, maximumMessageSize: maximumMessageSize)
    return ulogDrain(&reader)
}

func ulogDrain(_ reader: inout ULogReader) -> ULogReadResult {
    var result = ULogReadResult()
    do {
        while let record = try reader.next() { result.records.append(record) }
        result.truncatedByteCount = reader.truncatedByteCount
    } catch {
        result.error = error
    }
    return result
}

/// Reads bytes fed in chunks of the given sizes (the last size repeats).
func ulogReadChunked(
    _ bytes: [UInt8], chunkSizes: [Int], maximumMessageSize: Int = ULogReader.defaultMaximumMessageSize,
    check: (ULogReader, Int) -> Void = { _, _ in }
) -> ULogReadResult {
    var reader = ULogReader(maximumMessageSize: maximumMessageSize)
    var result = ULogReadResult()
    var offset = 0
    var sizeIndex = 0
    do {
        while offset < bytes.count {
            let size = max(1, chunkSizes[min(sizeIndex, chunkSizes.count - 1)])
            sizeIndex += 1
            let end = min(bytes.count, offset + size)
            reader.append(contentsOf: bytes[offset..<end])
            offset = end
            while let record = try reader.next() { result.records.append(record) }
            check(reader, size)
        }
        reader.finish()
        while let record = try reader.next() { result.records.append(record) }
        result.truncatedByteCount = reader.truncatedByteCount
    } catch {
        result.error = error
    }
    return result
}

/// The offsets at which messages end (the header's end first), walking the sizes.
func ulogMessageEnds(_ bytes: [UInt8]) -> [Int] {
    var ends = [16]
    var offset = 16
    while offset + 3 <= bytes.count {
        let size = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
        guard offset + 3 + size <= bytes.count else { break }
        offset += 3 + size
        ends.append(offset)
    }
    return ends
}

/// The data records (not info, multi-info) of a list.
func ulogDataRecords(_ records: [ULogRecord]) -> [ULogRecord] {
    records.filter {
        switch $0 {
        case .info, .multiInfo: return false
        default: return true
        }
    }
}

/// A deterministic generator for random chunkings and bytes.
struct ULogRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
