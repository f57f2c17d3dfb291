// libFuzzer entry point for the MAVLink frame decoder and the tlog reader: built only by
// scripts/fuzz. Each input is decoded as a raw stream and as a tlog, whole and in chunks;
// the chunked reads must give the same frames, records and counters, and nothing may
// crash or hold more than one frame plus one chunk.
import SnuffelWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let chunk = Int(bytes.last ?? 0) % 61 + 1

    var whole = MAVLinkFrameDecoder()
    whole.append(contentsOf: bytes)
    whole.finish()
    var frames: [MAVLinkFrame] = []
    while let frame = whole.next() {
        _ = MAVLinkMessage(frame: frame)
        frames.append(frame)
    }
    var fed = MAVLinkFrameDecoder()
    var chunked: [MAVLinkFrame] = []
    var offset = 0
    while offset < size {
        let end = min(size, offset + chunk)
        fed.append(contentsOf: bytes[offset..<end])
        offset = end
        while let frame = fed.next() { chunked.append(frame) }
        precondition(fed.consumedByteCount + MAVLink.maximumFrameSize + chunk >= offset, "decoder holds too much")
    }
    fed.finish()
    while let frame = fed.next() { chunked.append(frame) }
    precondition(frames == chunked, "whole and chunked frames differ")
    precondition(whole.droppedByteCount == fed.droppedByteCount && whole.crcErrorCount == fed.crcErrorCount)
    precondition(whole.firstError == fed.firstError)
    precondition(whole.firstError.map { $0.offset < size } ?? true, "error offset past the input")

    var tlog = TLogReader(bytes: bytes)
    var records: [TLogRecord] = []
    while let record = tlog.next() { records.append(record) }
    var tlogFed = TLogReader()
    var tlogChunked: [TLogRecord] = []
    offset = 0
    while offset < size {
        let end = min(size, offset + chunk)
        tlogFed.append(contentsOf: bytes[offset..<end])
        offset = end
        while let record = tlogFed.next() { tlogChunked.append(record) }
    }
    tlogFed.finish()
    while let record = tlogFed.next() { tlogChunked.append(record) }
    precondition(records == tlogChunked, "whole and chunked tlog records differ")
    precondition(tlog.truncatedByteCount == tlogFed.truncatedByteCount && tlog.droppedByteCount == tlogFed.droppedByteCount)
    return 0
}
