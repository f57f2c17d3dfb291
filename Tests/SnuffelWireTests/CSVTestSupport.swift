import SnuffelCore
@testable import SnuffelWire

/// The reference payload's channel ids.
let referenceChannelIDs = ["voc_raw", "nox_raw", "gas_r", "pid", "nh3", "h2s", "co", "temp", "rh"]

/// What a reader produced, in order: rows and the errors between them.
enum ReaderEvent: Equatable {
    case row(CSVRow)
    case error(CSVError)
}

/// Takes rows from a reader until it returns nil or its header fails.
///
/// - Returns: Whether the reader can go on (false after a header error).
@discardableResult
func drain(_ reader: inout CSVSampleReader, into events: inout [ReaderEvent]) -> Bool {
    while true {
        do {
            guard let row = try reader.next() else { return true }
            events.append(.row(row))
        } catch {
            events.append(.error(error))
            if reader.header == nil { return false }
        }
    }
}

/// Decodes bytes given whole.
func decodeWhole(
    _ bytes: [UInt8], channelIDs: [String] = referenceChannelIDs, ignoreUnknownColumns: Bool = false,
    maximumLineLength: Int = CSVSampleReader.defaultMaximumLineLength
) -> [ReaderEvent] {
    var reader = CSVSampleReader(
        channelIDs: channelIDs, bytes: bytes, ignoreUnknownColumns: ignoreUnknownColumns,
        maximumLineLength: maximumLineLength)
    var events: [ReaderEvent] = []
    drain(&reader, into: &events)
    return events
}

func decodeWhole(_ text: String, channelIDs: [String] = referenceChannelIDs, ignoreUnknownColumns: Bool = false) -> [ReaderEvent] {
    decodeWhole(Array(text.utf8), channelIDs: channelIDs, ignoreUnknownColumns: ignoreUnknownColumns)
}

/// Decodes bytes fed in chunks of the given sizes (the last size repeats), draining
/// after each chunk, then finishing.
func decodeChunked(
    _ bytes: [UInt8], chunkSizes: [Int], channelIDs: [String] = referenceChannelIDs,
    maximumLineLength: Int = CSVSampleReader.defaultMaximumLineLength,
    check: (CSVSampleReader) -> Void = { _ in }
) -> [ReaderEvent] {
    var reader = CSVSampleReader(channelIDs: channelIDs, maximumLineLength: maximumLineLength)
    var events: [ReaderEvent] = []
    var offset = 0
    var sizeIndex = 0
    while offset < bytes.count {
        let size = max(1, chunkSizes[min(sizeIndex, chunkSizes.count - 1)])
        sizeIndex += 1
        let end = min(bytes.count, offset + size)
        reader.append(contentsOf: bytes[offset..<end])
        offset = end
        let goOn = drain(&reader, into: &events)
        check(reader)
        if !goOn { return events }
    }
    reader.finish()
    drain(&reader, into: &events)
    return events
}

/// The error events only.
func errors(_ events: [ReaderEvent]) -> [CSVError] {
    events.compactMap { if case .error(let error) = $0 { error } else { nil } }
}

/// The row events only.
func rows(_ events: [ReaderEvent]) -> [CSVRow] {
    events.compactMap { if case .row(let row) = $0 { row } else { nil } }
}

/// A small deterministic generator (SplitMix64), so that failures reproduce.
struct SplitMix64: RandomNumberGenerator {
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
