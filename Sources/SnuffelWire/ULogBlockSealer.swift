/// Seals the blocks a ``ULogFileWriter`` writes, so that a verifier can later tell an
/// intact log from a cut or altered one.
///
/// Before each block goes to the file, the writer hands its bytes to the sealer and
/// appends the info message ('I') the sealer returns to the same block; the message's
/// bytes are written in the same `write` as the block. The sealer sees every byte of the
/// file once, in order: the first block starts with the header (and the sealer's
/// ``headerInfo``), each later block starts right after the previous seal message.
///
/// `SnuffelWire` knows nothing of the cryptography: `SnuffelSigning` implements this
/// protocol with a SHA-256 hash chain and Ed25519 signatures.
public protocol ULogBlockSealer {
    /// Info messages to write in the log's header (a device id and public key, say).
    var headerInfo: [(key: String, value: String)] { get }

    /// Seals one block.
    ///
    /// - Parameters:
    ///   - block: The block's bytes, exactly as they will be written.
    ///   - time: The latest log time (µs) of the records appended so far.
    ///   - isFinal: Whether the log is being closed: no block follows.
    /// - Returns: The key and the `char[N]` value of the info message that closes the
    ///   block.
    mutating func seal(block: ArraySlice<UInt8>, time: UInt64, isFinal: Bool) -> (key: String, value: String)
}
