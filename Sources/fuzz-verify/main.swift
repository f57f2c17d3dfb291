// libFuzzer entry point for the signed-log verifier behind `snuffel verify`: built only by
// scripts/fuzz (`swift build --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address --product
// fuzz-verify`). Each input is verified whole and again in chunks against the fuzz key (the
// key of the seeds in Tests/fuzz/verify-seeds); the two verdicts must agree, and neither
// run may crash or hold more than the bytes not yet hashed.
import SnuffelSigning

/// The fuzz key: private key bytes 1, 2, ..., 32 (Tests/SnuffelSigningTests writes the seeds
/// with it).
private let fuzzKey: DevicePublicKey? = (try? DeviceKey(rawRepresentation: Array(1...32)))?.publicKey

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let key = fuzzKey else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var whole = SignedLogVerifier(key: key)
    whole.append(contentsOf: bytes)
    let verdict = whole.finish()

    // The same bytes in chunks whose size comes from the input's last byte.
    let chunk = Int(bytes.last ?? 0) % 61 + 1
    var chunked = SignedLogVerifier(key: key)
    var offset = 0
    while offset < size {
        let end = min(size, offset + chunk)
        chunked.append(contentsOf: bytes[offset..<end])
        offset = end
    }
    let chunkedVerdict = chunked.finish()
    precondition(verdict == chunkedVerdict, "whole and chunked verdicts differ: \(verdict) vs \(chunkedVerdict)")
    if case .altered(let at, _) = verdict { precondition(at <= size, "altered offset past the input") }
    return 0
}
