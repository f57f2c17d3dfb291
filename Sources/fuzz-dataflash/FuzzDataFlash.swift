// libFuzzer entry point for the DataFlash reader: built only by scripts/fuzz. Each input
// is read whole and in chunks; the two must give the same records and counters, every
// field of every record is decoded, and nothing may crash.
import SnuffelWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var whole = DataFlashReader(bytes: bytes)
    var messages: [DataFlashMessage] = []
    while let message = whole.next() {
        for i in message.format.labels.indices { _ = message.value(at: i) }
        messages.append(message)
    }
    let chunk = Int(bytes.last ?? 0) % 61 + 1
    var fed = DataFlashReader()
    var chunked: [DataFlashMessage] = []
    var offset = 0
    while offset < size {
        let end = min(size, offset + chunk)
        fed.append(contentsOf: bytes[offset..<end])
        offset = end
        while let message = fed.next() { chunked.append(message) }
        precondition(fed.consumedByteCount + 255 + chunk >= offset, "reader holds too much")
    }
    fed.finish()
    while let message = fed.next() { chunked.append(message) }
    // Compared as text: a NaN field is not == to itself, but prints the same.
    precondition(messages == chunked || String(describing: messages) == String(describing: chunked), "whole and chunked reads differ")
    precondition(whole.truncatedByteCount == fed.truncatedByteCount && whole.droppedByteCount == fed.droppedByteCount)
    precondition(whole.firstError == fed.firstError)
    return 0
}
