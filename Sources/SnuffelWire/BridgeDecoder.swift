import BridgeProtocol

/// Decodes the byte stream from a bridge microcontroller into frames, incrementally and
/// in bounded memory.
///
/// The decoder works like a swift-nio decoder. Give it bytes as they come with
/// ``append(contentsOf:)``, split anywhere, and call ``next()`` until it returns nil (it
/// needs more bytes: a short read is not an error). The same frames come out however the
/// bytes are split.
///
/// Frames end at a zero byte (firmware-bridge/PROTOCOL.md), so the decoder resynchronises
/// by itself: bytes that are not a frame — a frame cut when the link came up, line noise,
/// a frame longer than ``maximumFrameSize`` — are rejected up to the next zero byte. Each
/// rejected frame is thrown once as a ``BridgeDecoderError`` and counted in
/// ``statistics``; the error is not final, the next call goes on with the bytes after it.
/// Sequence numbers are followed: frames missing between two that arrived are counted in
/// ``BridgeDecoderStatistics/lostFrames``, and a sequence that starts again at 0 (the
/// bridge restarted) in ``BridgeDecoderStatistics/restarts``.
///
/// Memory stays bounded: the decoder holds at most one frame of ``maximumFrameSize``
/// bytes plus the bytes last appended.
public struct BridgeDecoder: Sendable {
    /// The most bytes between two delimiters that can be a frame: one frame of
    /// ``BridgeWire/maximumRawFrameSize`` bytes after COBS.
    public static let maximumFrameSize = BridgeWire.maximumEncodedFrameSize - 1

    /// The counters so far.
    public private(set) var statistics = BridgeDecoderStatistics()
    /// Once ``finish()`` was called and ``next()`` returned nil: the bytes after the last
    /// delimiter (a frame cut by the end of the input). Nil before.
    public private(set) var truncatedByteCount: Int?
    /// The bytes of the input consumed so far.
    public var consumedByteCount: Int { base + readIndex }
    /// The bytes held that are not consumed yet: at most ``maximumFrameSize`` plus the
    /// bytes last appended.
    public var heldByteCount: Int { buffer.count - readIndex }

    // `buffer[readIndex...]` is not consumed; `buffer[readIndex..<scanIndex]` holds no
    // delimiter; `base` is the input offset of `buffer[0]`.
    var buffer: [UInt8] = []
    var readIndex = 0
    var scanIndex = 0
    var base = 0
    var inputEnded = false
    /// Bytes up to the next delimiter belong to a frame already rejected as too long.
    var skippingLongFrame = false
    var expectedSequence: UInt32?
    var scratch: [UInt8] = []

    /// Creates a decoder that is fed bytes with ``append(contentsOf:)``.
    public init() {
        scratch.reserveCapacity(BridgeWire.maximumRawFrameSize + 1)
    }

    /// Adds bytes to the input.
    ///
    /// - Parameter bytes: The next bytes of the stream, split anywhere.
    /// - Precondition: ``finish()`` has not been called.
    /// - Complexity: O(*m* + *k*): the bytes appended and those held of an incomplete
    ///   frame.
    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        precondition(!inputEnded, "BridgeDecoder: append after finish()")
        if readIndex > 0 {
            buffer.removeSubrange(0..<readIndex)
            base += readIndex
            scanIndex -= readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Marks the end of the input; ``next()`` then returns the last frames, and nil at the
    /// end with ``truncatedByteCount`` set.
    public mutating func finish() {
        inputEnded = true
    }

    /// Decodes the next frame.
    ///
    /// - Returns: The next frame, or nil if more bytes are needed (after ``finish()``: at
    ///   the end).
    /// - Throws: ``BridgeDecoderError`` for bytes between two delimiters that are not a
    ///   frame. The bytes are consumed and counted; call again to go on.
    /// - Complexity: O(*n*) in the bytes consumed.
    public mutating func next() throws(BridgeDecoderError) -> BridgeFrame? {
        while true {
            let end = buffer.count
            while scanIndex < end && buffer[scanIndex] != BridgeWire.delimiter { scanIndex += 1 }
            let start = readIndex
            let count = scanIndex - start
            guard scanIndex < end else {
                // No delimiter yet: bound what is held. The rest of a frame already
                // refused as too long is dropped as it comes.
                if skippingLongFrame {
                    readIndex = scanIndex
                    statistics.discardedBytes += count
                } else if count > Self.maximumFrameSize {
                    readIndex = scanIndex
                    statistics.discardedBytes += count
                    skippingLongFrame = true
                    statistics.oversizedFrames += 1
                    throw BridgeDecoderError(offset: base + start, reason: .frameTooLong(limit: Self.maximumFrameSize))
                }
                if inputEnded { truncatedByteCount = heldByteCount }
                return nil
            }
            readIndex = scanIndex + 1
            scanIndex = readIndex
            if skippingLongFrame {
                skippingLongFrame = false
                statistics.discardedBytes += count
                continue
            }
            if count == 0 { continue }
            if count > Self.maximumFrameSize {
                statistics.discardedBytes += count
                statistics.oversizedFrames += 1
                throw BridgeDecoderError(offset: base + start, reason: .frameTooLong(limit: Self.maximumFrameSize))
            }
            let frame: BridgeFrame
            do {
                frame = try BridgeFrame.decode(encoded: buffer[start..<(start + count)], scratch: &scratch)
            } catch {
                statistics.discardedBytes += count
                switch error {
                case .crcMismatch: statistics.crcFailures += 1
                case .tooLong: statistics.oversizedFrames += 1
                default: statistics.malformedFrames += 1
                }
                throw BridgeDecoderError(offset: base + start, reason: .frame(error))
            }
            account(frame)
            return frame
        }
    }

    private mutating func account(_ frame: BridgeFrame) {
        statistics.frames += 1
        if case .samples(let block) = frame.message { statistics.samples += block.values.count }
        if let expected = expectedSequence, frame.sequence != expected {
            let gap = frame.sequence &- expected
            if frame.sequence == 0 {
                statistics.restarts += 1
            } else if gap < 1 << 31 {
                statistics.lostFrames += Int(gap)
            } else {
                statistics.outOfOrderFrames += 1
            }
        }
        expectedSequence = frame.sequence &+ 1
    }
}

/// What a ``BridgeDecoder`` has seen.
public struct BridgeDecoderStatistics: Sendable, Equatable {
    /// Frames decoded.
    public var frames = 0
    /// Sample values in the sample frames decoded.
    public var samples = 0
    /// Frames whose CRC did not match.
    public var crcFailures = 0
    /// Frames with bad COBS, too short, of another version, of an unknown type or with a
    /// payload that does not fit their type.
    public var malformedFrames = 0
    /// Runs of bytes without a delimiter longer than a frame can be.
    public var oversizedFrames = 0
    /// Frames missing from the sequence (sent but never decoded).
    public var lostFrames = 0
    /// Frames whose sequence number went back (other than to 0).
    public var outOfOrderFrames = 0
    /// Times the sequence started again at 0: the bridge restarted.
    public var restarts = 0
    /// Bytes of rejected frames.
    public var discardedBytes = 0

    /// All counters at 0.
    public init() {}

    /// All rejected frames: CRC failures, malformed and oversized frames.
    public var rejectedFrames: Int { crcFailures + malformedFrames + oversizedFrames }
}

/// Bytes from a bridge that are not a frame.
///
/// The description names the place first, then the reason, for example
/// `byte 1234: CRC 0x1234 in the frame, 0xABCD computed`.
public struct BridgeDecoderError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The offset in the stream of the first byte of the rejected frame.
    public var offset: Int
    /// Why the bytes are not a frame.
    public var reason: Reason

    /// Creates an error.
    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "byte \(offset): \(reason)" }

    /// Why the bytes are not a frame.
    public enum Reason: Error, Sendable, Equatable, CustomStringConvertible {
        /// The bytes between two delimiters are not a valid frame.
        case frame(BridgeFrameError)
        /// More bytes than a frame can have came without a delimiter; they are dropped up
        /// to the next one.
        case frameTooLong(limit: Int)

        public var description: String {
            switch self {
            case .frame(let error): return error.explanation
            case .frameTooLong(let limit): return "more than \(limit) bytes without a frame delimiter"
            }
        }
    }
}

extension BridgeFrameError {
    /// A sentence for people.
    public var explanation: String {
        switch self {
        case .invalidCOBS: return "not valid COBS"
        case .tooShort(let count): return "frame of \(count) bytes, shorter than a header and CRC"
        case .tooLong(let count): return "frame of \(count) bytes, longer than \(BridgeWire.maximumRawFrameSize + 1)"
        case .crcMismatch(let received, let computed):
            return "CRC \(hex(received)) in the frame, \(hex(computed)) computed"
        case .unsupportedVersion(let version): return "protocol version \(version), not \(BridgeWire.version)"
        case .unknownType(let type): return "unknown frame type \(hex(type))"
        case .badPayloadLength(let type, let count): return "payload of \(count) bytes does not fit frame type \(hex(type))"
        case .invalidField(let type): return "a field of frame type \(hex(type)) holds an impossible value"
        }
    }
}

private func hex(_ value: some FixedWidthInteger) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: max(0, value.bitWidth / 4 - digits.count)) + digits
}
