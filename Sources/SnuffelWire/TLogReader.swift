/// One record of a telemetry log: when the ground station received a frame, and the frame.
public struct TLogRecord: Sendable, Equatable {
    /// When the frame was received: µs since the UNIX epoch (UTC) on the ground station's
    /// clock.
    public var time: UInt64
    public var frame: MAVLinkFrame

    public init(time: UInt64, frame: MAVLinkFrame) {
        self.time = time
        self.frame = frame
    }
}

/// Reads a MAVLink telemetry log (`.tlog`, as written by Mission Planner, QGroundControl
/// and MAVProxy): each MAVLink 1 or 2 frame preceded by an 8-byte big-endian count of µs
/// since the UNIX epoch.
///
/// Works like ``MAVLinkFrameDecoder`` (append bytes, ``next()`` until nil, ``finish()``),
/// or from a file with ``init(contentsOfFile:table:)``. A record is taken where a frame
/// that passes its CRC starts 8 bytes on; a frame of a message the table does not know is
/// taken (unchecked) only when the next record's frame start follows it, or the input
/// ends. Anything else is skipped one byte at a time (counted in ``droppedByteCount``;
/// ``firstError`` names the first bad frame's offset), so a log with garbage or a
/// corrupted frame in it is read on past it. A log cut inside a record ends with that
/// record's bytes in ``truncatedByteCount``. Memory: one record plus the bytes last
/// appended (or one file chunk).
public struct TLogReader: Sendable {
    /// The bytes of the timestamp before each frame.
    public static let timestampSize = 8
    /// The messages whose frames are checked and padded.
    public let table: MAVLinkMessageTable

    /// Records returned.
    public private(set) var recordCount = 0
    /// Records of messages the table does not know (returned unchecked).
    public private(set) var uncheckedRecordCount = 0
    /// Frames whose CRC did not match.
    public private(set) var crcErrorCount = 0
    /// Bytes skipped between records (garbage, corrupted records).
    public private(set) var droppedByteCount = 0
    /// Once ``next()`` returned nil at the end of the input: the bytes after the last
    /// record (a record cut short, or garbage; 0 for a whole log). They are also counted in
    /// ``droppedByteCount``.
    public private(set) var truncatedByteCount: Int?
    /// The first bad frame, with its offset in the input.
    public private(set) var firstError: MAVLinkStreamError?
    /// A read error of the file, which ends the input.
    public var readError: FileReadError? { input.readError }
    /// The bytes of the input consumed.
    public var consumedByteCount: Int { input.consumed }

    var input = ChunkedInput()
    var lastRecordEnd = 0

    /// Creates a reader that is fed bytes with ``append(contentsOf:)``.
    public init(table: MAVLinkMessageTable = .ardupilotmega) {
        self.table = table
    }

    /// Creates a reader of bytes that are all at hand.
    public init(bytes: some Collection<UInt8>, table: MAVLinkMessageTable = .ardupilotmega) {
        self.table = table
        input = ChunkedInput(bytes: bytes)
    }

    /// Creates a reader of a file, read in chunks as records are taken.
    /// - Throws: ``FileOpenError`` if the file cannot be opened.
    public init(contentsOfFile path: String, table: MAVLinkMessageTable = .ardupilotmega) throws(FileOpenError) {
        self.table = table
        input = try ChunkedInput(contentsOfFile: path)
    }

    /// Adds bytes to the input.
    /// - Precondition: the reader was not made from a file or all its bytes, and
    ///   ``finish()`` was not called.
    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        input.append(contentsOf: bytes, reader: "TLogReader")
    }

    /// Marks the end of the input.
    public mutating func finish() { input.ended = true }

    /// The next record, or nil when more bytes are needed or (once the input has ended)
    /// at the end.
    public mutating func next() -> TLogRecord? {
        while true {
            switch step() {
            case .record(let record): return record
            case .skipped: continue
            case .needMore:
                if input.refill() { continue }
                guard input.ended else { return nil }
                // A record that runs past the end: cut, or a false start. Skip a byte and
                // look on; what follows the last record is the truncated part.
                if input.available > 0 {
                    input.readIndex += 1
                    droppedByteCount += 1
                    continue
                }
                truncatedByteCount = consumedByteCount - lastRecordEnd
                return nil
            }
        }
    }

    private enum Step {
        case record(TLogRecord)
        case skipped
        case needMore
    }

    private mutating func step() -> Step {
        let available = input.available
        let start = input.readIndex + Self.timestampSize
        guard available > Self.timestampSize else { return .needMore }
        let buffer = input.buffer
        switch MAVLinkParse.parse(buffer, at: start, end: buffer.count, table: table, acceptUnknown: true) {
        case .needMore:
            return .needMore
        case .invalid(let problem):
            if case .badCRC = problem { crcErrorCount += 1 }
            if let problem, firstError == nil { firstError = MAVLinkStreamError(offset: consumedByteCount, problem: problem) }
            input.readIndex += 1
            droppedByteCount += 1
            return .skipped
        case .frame(let frame, let size):
            let time = timestamp(at: input.readIndex)
            if !frame.isChecked {
                // Unchecked: believe it only if the next record starts right after it.
                let next = start + size
                if next + Self.timestampSize >= buffer.count {
                    if !input.ended { return .needMore }
                    if next != buffer.count { return skip(frame) }
                } else {
                    let first = buffer[next + Self.timestampSize]
                    let gap = timestamp(at: next) &- time
                    if first != MAVLink.startV1 && first != MAVLink.startV2 || gap > 86_400_000_000 && gap < ~86_400_000_000 {
                        return skip(frame)
                    }
                }
                uncheckedRecordCount += 1
            }
            input.readIndex = start + size
            lastRecordEnd = consumedByteCount
            recordCount += 1
            return .record(TLogRecord(time: time, frame: frame))
        }
    }

    private mutating func skip(_ frame: MAVLinkFrame) -> Step {
        if firstError == nil {
            firstError = MAVLinkStreamError(offset: consumedByteCount, problem: .unknownMessage(frame.messageID))
        }
        input.readIndex += 1
        droppedByteCount += 1
        return .skipped
    }

    private func timestamp(at i: Int) -> UInt64 {
        var value: UInt64 = 0
        for k in 0..<Self.timestampSize { value = value << 8 | UInt64(input.buffer[i + k]) }
        return value
    }
}

/// Reading a file failed after it was opened.
public struct FileReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The offset in the file where the read failed.
    public var offset: Int
    /// The `errno` value.
    public var code: Int32
    public var message: String

    public var description: String { "byte \(offset): read failed: \(message) (errno \(code))" }
}

extension FileSource {
    /// Opens a file for reading by offset.
    /// - Throws: ``FileOpenError``.
    init(openingForReading path: String) throws(FileOpenError) {
        switch system_openForReading(path) {
        case .success(let descriptor):
            self.init(descriptor: FileDescriptorOwner(descriptor))
        case .failure(let failure):
            throw FileOpenError(path: path, code: failure.code, message: failure.message)
        }
    }
}
