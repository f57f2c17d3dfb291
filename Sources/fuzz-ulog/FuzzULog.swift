// libFuzzer entry point for the ULog reader: built only by scripts/fuzz
// (`swift build --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address --product fuzz-ulog`).
// Each input is read whole and again in chunks; the two must give the same records and
// error, and neither may crash or hold more than one message plus one chunk.
import SnuffelWire

/// What a reader produced: records, then the end or an error.
private struct Outcome: Equatable {
    var records: [ULogRecord] = []
    var truncatedByteCount: Int?
    var error: ULogError?
}

private let maximumMessageSize = 4096
/// PX4 topics read as generic fields (the seed px4.ulg has them).
private let foreignTopics: Set<String> = ["vehicle_global_position", "vehicle_gps_position", "vehicle_attitude", "wind"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    var whole = Outcome()
    var reader = ULogReader(bytes: bytes, maximumMessageSize: maximumMessageSize, maximumDefinitionBytes: 64 * 1024)
    reader.foreignTopics = foreignTopics
    do {
        while let record = try reader.next() { whole.records.append(record) }
        whole.truncatedByteCount = reader.truncatedByteCount
    } catch {
        whole.error = error
        precondition(error.offset <= size, "error offset past the input")
    }

    // The same bytes in chunks whose size comes from the input's last byte.
    let chunk = Int(bytes.last ?? 0) % 61 + 1
    var chunked = Outcome()
    var fed = ULogReader(maximumMessageSize: maximumMessageSize, maximumDefinitionBytes: 64 * 1024)
    fed.foreignTopics = foreignTopics
    do {
        var offset = 0
        while offset < size {
            let end = min(size, offset + chunk)
            fed.append(contentsOf: bytes[offset..<end])
            offset = end
            while let record = try fed.next() { chunked.records.append(record) }
        }
        fed.finish()
        while let record = try fed.next() { chunked.records.append(record) }
        chunked.truncatedByteCount = fed.truncatedByteCount
    } catch {
        chunked.error = error
    }
    // Compared as text: a NaN in a record is not == to itself, but prints the same.
    precondition(
        whole == chunked || String(describing: whole) == String(describing: chunked), "whole and chunked reads differ")
    return 0
}
