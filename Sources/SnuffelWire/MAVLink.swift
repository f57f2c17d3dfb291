/// MAVLink framing (protocol versions 1 and 2), as the MAVLink "Serialization" and
/// "MAVLink 2" pages of mavlink.io describe it.
///
/// A version 1 frame is `0xFE`, payload length, sequence, system id, component id, an
/// 8-bit message id, the payload and a little-endian CRC. A version 2 frame is `0xFD`,
/// payload length, incompatibility flags, compatibility flags, sequence, system id,
/// component id, a 24-bit little-endian message id, the payload, the CRC and, when
/// incompatibility flag 0x01 is set, a 13-byte signature. The CRC is CRC-16/MCRF4XX
/// (the X.25 CRC: polynomial 0x1021 reflected, initial value 0xFFFF) over every byte after
/// the start byte up to the payload's end, then the message's CRC_EXTRA byte. A version 2
/// sender drops the payload's trailing zero bytes; the receiver fills them in.
public enum MAVLink {
    /// The start byte of a version 1 frame.
    public static let startV1: UInt8 = 0xFE
    /// The start byte of a version 2 frame.
    public static let startV2: UInt8 = 0xFD
    /// Bytes of a version 1 frame besides the payload: 6 of header, 2 of CRC.
    public static let overheadV1 = 8
    /// Bytes of a version 2 frame besides the payload and the signature.
    public static let overheadV2 = 12
    /// The bytes of a version 2 signature (link id, 48-bit timestamp, 48-bit signature).
    public static let signatureSize = 13
    /// The incompatibility flag of a signed version 2 frame; the only one defined.
    public static let incompatibilitySigned: UInt8 = 0x01
    /// The longest frame: a signed version 2 frame with a 255-byte payload.
    public static let maximumFrameSize = overheadV2 + 255 + signatureSize

    /// The CRC-16/MCRF4XX of `bytes`, continuing from `crc`.
    /// - Complexity: O(*n*).
    @inlinable
    public static func crc(_ bytes: some Sequence<UInt8>, crc: UInt16 = 0xFFFF) -> UInt16 {
        var crc = crc
        for byte in bytes { crc = accumulate(byte, crc) }
        return crc
    }

    /// One step of CRC-16/MCRF4XX (`crc_accumulate` of the MAVLink C library).
    @inlinable
    public static func accumulate(_ byte: UInt8, _ crc: UInt16) -> UInt16 {
        var tmp = byte ^ UInt8(truncatingIfNeeded: crc)
        tmp ^= tmp << 4
        let t = UInt16(tmp)
        return (crc >> 8) ^ (t << 8) ^ (t << 3) ^ (t >> 4)
    }
}

/// What a dialect says about one message: enough to check and pad its frames.
public struct MAVLinkMessageInfo: Sendable, Equatable {
    /// The message id.
    public var id: UInt32
    /// The message's name in the XML definition, e.g. `GLOBAL_POSITION_INT`.
    public var name: String
    /// The byte added to the CRC, which changes when the message's base fields change.
    public var crcExtra: UInt8
    /// The payload's full length, extension fields included; shorter version 2 payloads
    /// are filled with zeros up to it.
    public var length: Int

    /// Creates the entry of one message.
    public init(id: UInt32, name: String, crcExtra: UInt8, length: Int) {
        self.id = id
        self.name = name
        self.crcExtra = crcExtra
        self.length = length
    }
}

/// The messages a decoder knows, by id: a dialect, or part of one.
public struct MAVLinkMessageTable: Sendable {
    private var entries: [UInt32: MAVLinkMessageInfo]

    /// Creates a table; of entries with the same id, the last counts.
    public init(_ messages: some Sequence<MAVLinkMessageInfo>) {
        var entries: [UInt32: MAVLinkMessageInfo] = [:]
        for message in messages { entries[message.id] = message }
        self.entries = entries
    }

    /// The entry of a message id, or nil if the dialect does not have it.
    /// - Complexity: O(1).
    public subscript(id: UInt32) -> MAVLinkMessageInfo? { entries[id] }

    /// The number of messages.
    public var count: Int { entries.count }
}

/// The MAVLink protocol version of a frame.
public enum MAVLinkVersion: UInt8, Sendable {
    case v1 = 1
    case v2 = 2
}

/// One MAVLink frame, checked against its CRC when the message is known.
public struct MAVLinkFrame: Sendable, Equatable {
    public var version: MAVLinkVersion
    /// The sender's sequence number (wraps at 256).
    public var sequence: UInt8
    public var systemID: UInt8
    public var componentID: UInt8
    public var messageID: UInt32
    /// Incompatibility flags (version 2; 0 for version 1).
    public var incompatibilityFlags: UInt8
    /// Compatibility flags (version 2; 0 for version 1).
    public var compatibilityFlags: UInt8
    /// The payload, filled with zeros up to the message's full length when the message
    /// is known (a version 2 sender drops trailing zeros; version 1 senders omit extension
    /// fields), else as received.
    public var payload: [UInt8]
    /// The payload length on the wire.
    public var wireLength: Int
    /// Whether the frame carried a signature (its 13 bytes are skipped, not verified).
    public var isSigned: Bool
    /// Whether the CRC was checked: false only for a message the table does not know,
    /// accepted by a decoder that takes unknown messages.
    public var isChecked: Bool

    /// Creates a frame.
    public init(
        version: MAVLinkVersion, sequence: UInt8 = 0, systemID: UInt8 = 1, componentID: UInt8 = 1, messageID: UInt32,
        incompatibilityFlags: UInt8 = 0, compatibilityFlags: UInt8 = 0, payload: [UInt8], wireLength: Int? = nil,
        isSigned: Bool = false, isChecked: Bool = true
    ) {
        self.version = version
        self.sequence = sequence
        self.systemID = systemID
        self.componentID = componentID
        self.messageID = messageID
        self.incompatibilityFlags = incompatibilityFlags
        self.compatibilityFlags = compatibilityFlags
        self.payload = payload
        self.wireLength = wireLength ?? payload.count
        self.isSigned = isSigned
        self.isChecked = isChecked
    }
}

/// Why bytes that start like a frame are not one.
public enum MAVLinkFrameProblem: Sendable, Equatable, CustomStringConvertible {
    /// The CRC does not match (a corrupted frame, or a start byte inside other data).
    case badCRC(messageID: UInt32, expected: UInt16, found: UInt16)
    /// A version 2 frame with incompatibility flags this decoder does not know.
    case unsupportedIncompatibilityFlags(UInt8)
    /// A message id the table does not have, so the frame cannot be checked.
    case unknownMessage(UInt32)

    public var description: String {
        switch self {
        case .badCRC(let id, let expected, let found):
            return "CRC mismatch in message \(id) (computed \(hex(expected)), frame has \(hex(found)))"
        case .unsupportedIncompatibilityFlags(let flags):
            return "unsupported incompatibility flags 0x\(String(flags, radix: 16))"
        case .unknownMessage(let id):
            return "message id \(id) is not in the dialect"
        }
    }

    private func hex(_ value: UInt16) -> String { "0x" + String(value, radix: 16) }
}

/// The first problem a MAVLink reader met, with the byte offset in its input.
public struct MAVLinkStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The offset in the input of the first byte of the bad frame (or record).
    public var offset: Int
    public var problem: MAVLinkFrameProblem

    public init(offset: Int, problem: MAVLinkFrameProblem) {
        self.offset = offset
        self.problem = problem
    }

    public var description: String { "byte \(offset): \(problem)" }
}

/// The outcome of looking for a frame at one position.
enum MAVLinkParse {
    /// A frame of `size` bytes on the wire.
    case frame(MAVLinkFrame, size: Int)
    /// The bytes there could be the start of a frame; more are needed to tell.
    case needMore
    /// No frame starts there.
    case invalid(MAVLinkFrameProblem?)

    /// Parses the frame that starts at `start` in `bytes[..<end]`.
    ///
    /// - Parameters:
    ///   - acceptUnknown: Whether a message the table lacks is a frame (unchecked).
    /// - Complexity: O(frame size).
    static func parse(
        _ bytes: [UInt8], at start: Int, end: Int, table: MAVLinkMessageTable, acceptUnknown: Bool
    ) -> MAVLinkParse {
        guard start < end else { return .needMore }
        let version: MAVLinkVersion
        switch bytes[start] {
        case MAVLink.startV1: version = .v1
        case MAVLink.startV2: version = .v2
        default: return .invalid(nil)
        }
        guard end - start >= 2 else { return .needMore }
        let length = Int(bytes[start + 1])
        var size = (version == .v1 ? MAVLink.overheadV1 : MAVLink.overheadV2) + length
        var incompatible: UInt8 = 0, compatible: UInt8 = 0
        let headerEnd: Int
        let id: UInt32
        if version == .v2 {
            guard end - start >= 10 else { return .needMore }
            incompatible = bytes[start + 2]
            compatible = bytes[start + 3]
            if incompatible & ~MAVLink.incompatibilitySigned != 0 {
                return .invalid(.unsupportedIncompatibilityFlags(incompatible))
            }
            if incompatible & MAVLink.incompatibilitySigned != 0 { size += MAVLink.signatureSize }
            id = UInt32(bytes[start + 7]) | UInt32(bytes[start + 8]) << 8 | UInt32(bytes[start + 9]) << 16
            headerEnd = start + 10
        } else {
            guard end - start >= 6 else { return .needMore }
            id = UInt32(bytes[start + 5])
            headerEnd = start + 6
        }
        let info = table[id]
        if info == nil && !acceptUnknown { return .invalid(.unknownMessage(id)) }
        let payloadEnd = headerEnd + length
        guard end - start >= size else { return .needMore }
        if let info {
            var crc = MAVLink.crc(bytes[(start + 1)..<payloadEnd])
            crc = MAVLink.accumulate(info.crcExtra, crc)
            let found = UInt16(bytes[payloadEnd]) | UInt16(bytes[payloadEnd + 1]) << 8
            if crc != found { return .invalid(.badCRC(messageID: id, expected: crc, found: found)) }
        }
        var payload = Array(bytes[headerEnd..<payloadEnd])
        if let info, payload.count < info.length {
            payload.append(contentsOf: repeatElement(0, count: info.length - payload.count))
        }
        let header = version == .v2 ? start + 4 : start + 2
        let frame = MAVLinkFrame(
            version: version, sequence: bytes[header], systemID: bytes[header + 1], componentID: bytes[header + 2],
            messageID: id, incompatibilityFlags: incompatible, compatibilityFlags: compatible, payload: payload,
            wireLength: length, isSigned: incompatible & MAVLink.incompatibilitySigned != 0, isChecked: info != nil)
        return .frame(frame, size: size)
    }
}

/// Decodes a stream of MAVLink 1 and 2 frames (a serial port, a UDP socket, a raw dump),
/// incrementally, resynchronising after garbage.
///
/// It works like a swift-nio decoder: ``append(contentsOf:)`` the bytes as they come and
/// call ``next()`` until it returns nil (more bytes are needed: a short read is not an
/// error); ``finish()`` marks the end of the input. The same frames come out however the
/// bytes are split.
///
/// Bytes that do not start a frame, frames whose CRC fails, frames with unknown
/// incompatibility flags and (unless ``acceptsUnknownMessages``) frames of messages the
/// table does not know are skipped one start byte at a time, so a real frame that begins
/// inside a bad one is still found. Skipped bytes are counted in ``droppedByteCount``,
/// failed CRCs in ``crcErrorCount``; ``firstError`` names the offset of the first bad
/// frame. The decoder holds at most one incomplete frame (``MAVLink/maximumFrameSize``
/// bytes) plus the bytes last appended.
public struct MAVLinkFrameDecoder: Sendable {
    /// The messages whose frames are checked and padded.
    public let table: MAVLinkMessageTable
    /// Whether frames of messages the table lacks are returned (unchecked: see
    /// ``MAVLinkFrame/isChecked``) instead of skipped.
    public let acceptsUnknownMessages: Bool

    /// Frames returned.
    public private(set) var frameCount = 0
    /// Frames whose CRC did not match.
    public private(set) var crcErrorCount = 0
    /// Frames skipped for a message the table lacks or unknown incompatibility flags.
    public private(set) var unsupportedFrameCount = 0
    /// Bytes skipped: garbage, bad frames, and an incomplete frame at the end of the input.
    public private(set) var droppedByteCount = 0
    /// The first bad frame, with its offset in the input.
    public private(set) var firstError: MAVLinkStreamError?
    /// The bytes of the input consumed.
    public var consumedByteCount: Int { base + readIndex }

    var buffer: [UInt8] = []
    var readIndex = 0
    var base = 0
    var inputEnded = false

    /// Creates a decoder.
    /// - Parameters:
    ///   - table: The messages whose frames are checked; by default the `ardupilotmega`
    ///     dialect.
    ///   - acceptsUnknownMessages: Whether to return frames of other messages unchecked.
    public init(table: MAVLinkMessageTable = .ardupilotmega, acceptsUnknownMessages: Bool = false) {
        self.table = table
        self.acceptsUnknownMessages = acceptsUnknownMessages
    }

    /// Adds bytes to the input.
    /// - Complexity: O(*m* + *k*): the bytes appended and those held of an incomplete frame.
    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        if readIndex > 0 {
            buffer.removeSubrange(0..<readIndex)
            base += readIndex
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Marks the end of the input: an incomplete frame left is skipped and counted, and
    /// frames after its start are still found.
    public mutating func finish() {
        inputEnded = true
    }

    /// The next frame, or nil when more bytes are needed (or at the end of the input).
    /// - Complexity: O(*n*) in the bytes skipped before the frame, times the frame size
    ///   at worst.
    public mutating func next() -> MAVLinkFrame? {
        while readIndex < buffer.count {
            // Skip quickly to the next possible start byte.
            guard let start = buffer[readIndex...].firstIndex(where: { $0 == MAVLink.startV1 || $0 == MAVLink.startV2 })
            else {
                droppedByteCount += buffer.count - readIndex
                readIndex = buffer.count
                break
            }
            droppedByteCount += start - readIndex
            readIndex = start
            switch MAVLinkParse.parse(buffer, at: start, end: buffer.count, table: table, acceptUnknown: acceptsUnknownMessages) {
            case .frame(let frame, let size):
                readIndex += size
                frameCount += 1
                return frame
            case .needMore:
                // At the end of the input, a frame that runs past it is cut (or a start
                // byte inside other data): skip its start byte and look on, since whole
                // frames may follow it.
                guard inputEnded else { return nil }
                droppedByteCount += 1
                readIndex += 1
            case .invalid(let problem):
                if let problem { note(problem, at: base + start) }
                droppedByteCount += 1
                readIndex += 1
            }
        }
        return nil
    }

    private mutating func note(_ problem: MAVLinkFrameProblem, at offset: Int) {
        switch problem {
        case .badCRC: crcErrorCount += 1
        case .unknownMessage, .unsupportedIncompatibilityFlags: unsupportedFrameCount += 1
        }
        if firstError == nil { firstError = MAVLinkStreamError(offset: offset, problem: problem) }
    }
}
