// libFuzzer entry point for the bridge frame decoder: built only by scripts/fuzz
// (`swift build --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address --product fuzz-bridge`).
// Each input is decoded whole and again in chunks; the two must give the same frames,
// errors and counters, the decoder must never hold more than one frame plus one chunk,
// and every frame decoded must encode and decode to itself.
import BridgeProtocol
import SnuffelWire

/// What a decoder produced.
private struct Outcome: Equatable {
    var frames: [BridgeFrame] = []
    var errors: [BridgeDecoderError] = []
    var statistics = BridgeDecoderStatistics()
    var truncatedByteCount: Int?
}

private func drain(_ decoder: inout BridgeDecoder, into outcome: inout Outcome) {
    while true {
        do {
            guard let frame = try decoder.next() else { return }
            outcome.frames.append(frame)
        } catch {
            outcome.errors.append(error)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    var whole = Outcome()
    var decoder = BridgeDecoder()
    decoder.append(contentsOf: bytes)
    decoder.finish()
    drain(&decoder, into: &whole)
    whole.statistics = decoder.statistics
    whole.truncatedByteCount = decoder.truncatedByteCount

    // The same bytes in chunks whose size comes from the input's last byte.
    let chunk = Int(bytes.last ?? 0) % 61 + 1
    var chunked = Outcome()
    var fed = BridgeDecoder()
    var offset = 0
    while offset < size {
        let end = min(size, offset + chunk)
        fed.append(contentsOf: bytes[offset..<end])
        offset = end
        drain(&fed, into: &chunked)
        precondition(fed.heldByteCount <= BridgeDecoder.maximumFrameSize + chunk, "decoder holds too much")
    }
    fed.finish()
    drain(&fed, into: &chunked)
    chunked.statistics = fed.statistics
    chunked.truncatedByteCount = fed.truncatedByteCount
    precondition(whole == chunked, "whole and chunked decoding differ")

    var scratch: [UInt8] = []
    for frame in whole.frames {
        let wire = frame.encoded()
        precondition(!wire.isEmpty && wire.last == 0, "a decoded frame does not encode")
        let again = try? BridgeFrame.decode(encoded: wire.dropLast(), scratch: &scratch)
        precondition(again == frame, "a decoded frame does not round-trip")
    }
    return 0
}
