/// The input of an incremental reader: bytes appended or read from a file in chunks, of
/// which `buffer[readIndex...]` is not consumed yet. Shared by the tlog and DataFlash
/// readers.
struct ChunkedInput: Sendable {
    var buffer: [UInt8] = []
    var readIndex = 0
    /// The input offset of `buffer[0]`.
    var base = 0
    var ended = false
    var file: FileSource?
    /// A read error of the file, which ends the input.
    var readError: FileReadError?

    /// The bytes of the input consumed.
    var consumed: Int { base + readIndex }
    /// The bytes held that are not consumed.
    var available: Int { buffer.count - readIndex }

    init() {}

    init(bytes: some Collection<UInt8>) {
        buffer = Array(bytes)
        ended = true
    }

    init(contentsOfFile path: String) throws(FileOpenError) {
        file = try FileSource(openingForReading: path)
    }

    /// Drops the consumed bytes and appends `bytes`.
    mutating func append(contentsOf bytes: some Sequence<UInt8>, reader: String) {
        precondition(!ended && file == nil, "\(reader): append after the end of the input")
        compact()
        buffer.append(contentsOf: bytes)
    }

    mutating func compact() {
        guard readIndex > 0 else { return }
        buffer.removeSubrange(0..<readIndex)
        base += readIndex
        readIndex = 0
    }

    /// Reads the next chunk of the file, if the reader has one.
    /// - Returns: Whether bytes may have come (call the parser again); false for a fed
    ///   reader or at the end of the input.
    mutating func refill() -> Bool {
        guard !ended, file != nil else { return false }
        compact()
        switch file?.read(appendingTo: &buffer) ?? .success(0) {
        case .success(let count): if count == 0 { ended = true }
        case .failure(let failure):
            readError = FileReadError(offset: consumed, code: failure.code, message: failure.message)
            ended = true
        }
        return true
    }
}
