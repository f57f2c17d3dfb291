/// ArduPilot DataFlash logs (`.bin`), as ArduPilot's `AP_Logger` writes them and
/// pymavlink's `DFReader` reads them.
///
/// A log is a sequence of records: the two bytes `0xA3 0x95`, a type byte and the
/// record's fields, packed little-endian. Type 128 (`FMT`, 89 bytes) describes a type: its
/// number, its record length (header included), a 4-character name, a format string of
/// up to 16 characters (one per field) and the comma-separated field labels. The format
/// characters are those of `DFReader.FORMAT_TO_STRUCT`: `b B h H i I q Q f d` (integers
/// and reals), `n N Z` (text of 4, 16, 64 bytes), `c C` (16-bit × 0.01), `e E` (32-bit ×
/// 0.01), `L` (latitude or longitude, 32-bit × 10⁻⁷), `M` (flight mode, 8-bit), `a`
/// (32 × int16) and `g` (half float).
public enum DataFlash {
    /// The two bytes that start every record.
    public static let head: (UInt8, UInt8) = (0xA3, 0x95)
    /// The type of a format record.
    public static let formatType: UInt8 = 128
    /// The length of a format record, header included.
    public static let formatLength = 89

    /// The size of a field of format character `c`, or nil for an unknown character.
    static func size(of c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "M"): return 1
        case UInt8(ascii: "h"), UInt8(ascii: "H"), UInt8(ascii: "c"), UInt8(ascii: "C"), UInt8(ascii: "g"): return 2
        case UInt8(ascii: "i"), UInt8(ascii: "I"), UInt8(ascii: "f"), UInt8(ascii: "e"), UInt8(ascii: "E"),
            UInt8(ascii: "L"), UInt8(ascii: "n"):
            return 4
        case UInt8(ascii: "q"), UInt8(ascii: "Q"), UInt8(ascii: "d"): return 8
        case UInt8(ascii: "N"): return 16
        case UInt8(ascii: "Z"), UInt8(ascii: "a"): return 64
        default: return nil
        }
    }
}

/// The layout of one record type, from its FMT record.
public struct DataFlashFormat: Sendable, Equatable {
    /// The record type.
    public var type: UInt8
    /// The record length, header included.
    public var length: Int
    /// The type's name, e.g. `GPS`.
    public var name: String
    /// The format characters, one per field.
    public var format: [UInt8]
    /// The field labels, one per format character.
    public var labels: [String]
    /// Each field's offset in the payload (after the 3-byte header).
    public var offsets: [Int]
    /// Whether the fields fit the length and every format character is known; records of
    /// other types are skipped whole.
    public var isDecodable: Bool

    /// Creates a format; offsets and decodability are computed.
    public init(type: UInt8, length: Int, name: String, format: [UInt8], labels: [String]) {
        self.type = type
        self.length = length
        self.name = name
        self.format = format
        self.labels = labels
        var offsets: [Int] = []
        var offset = 0
        var decodable = labels.count == format.count
        for c in format {
            offsets.append(offset)
            guard let size = DataFlash.size(of: c) else {
                decodable = false
                break
            }
            offset += size
        }
        self.offsets = offsets
        self.isDecodable = decodable && offset + 3 <= length
    }

    /// The format of FMT records themselves.
    static let fmt = DataFlashFormat(
        type: DataFlash.formatType, length: DataFlash.formatLength, name: "FMT", format: Array("BBnNZ".utf8),
        labels: ["Type", "Length", "Name", "Format", "Columns"])
}

/// A field's value, with DFReader's scaling applied (`c C e E` × 0.01, `L` × 10⁻⁷).
public enum DataFlashValue: Sendable, Equatable {
    case integer(Int64)
    case unsigned(UInt64)
    case real(Double)
    case text(String)
    /// An `a` field: 32 signed 16-bit values.
    case array([Int16])

    /// The value as a number, when it is one.
    public var number: Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .unsigned(let v): return Double(v)
        case .real(let v): return v
        case .text, .array: return nil
        }
    }
}

/// One record of a DataFlash log; fields are decoded when asked for.
public struct DataFlashMessage: Sendable, Equatable {
    /// The record's layout.
    public var format: DataFlashFormat
    /// The record's bytes after the 3-byte header.
    public var payload: [UInt8]

    /// The type's name, e.g. `GPS`.
    public var name: String { format.name }

    /// The field with this label, or nil if the type has none.
    /// - Complexity: O(fields).
    public func value(_ label: String) -> DataFlashValue? {
        guard let i = format.labels.firstIndex(of: label) else { return nil }
        return value(at: i)
    }

    /// The field with this label as a number (scaled), or nil.
    public func number(_ label: String) -> Double? { value(label)?.number }

    /// The field at index `i` of the format.
    public func value(at i: Int) -> DataFlashValue? {
        guard format.isDecodable, i < format.format.count else { return nil }
        let o = format.offsets[i]
        func u(_ size: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<size where o + k < payload.count { v |= UInt64(payload[o + k]) << (8 * UInt64(k)) }
            return v
        }
        func text(_ size: Int) -> String {
            let end = min(payload.count, o + size)
            guard o < end else { return "" }
            return ulogText(payload[o..<end])
        }
        switch format.format[i] {
        case UInt8(ascii: "b"), UInt8(ascii: "M"): return .integer(Int64(Int8(truncatingIfNeeded: u(1))))
        case UInt8(ascii: "B"): return .unsigned(u(1))
        case UInt8(ascii: "h"): return .integer(Int64(Int16(truncatingIfNeeded: u(2))))
        case UInt8(ascii: "H"): return .unsigned(u(2))
        case UInt8(ascii: "i"): return .integer(Int64(Int32(truncatingIfNeeded: u(4))))
        case UInt8(ascii: "I"): return .unsigned(u(4))
        case UInt8(ascii: "q"): return .integer(Int64(bitPattern: u(8)))
        case UInt8(ascii: "Q"): return .unsigned(u(8))
        case UInt8(ascii: "f"): return .real(Double(Float(bitPattern: UInt32(truncatingIfNeeded: u(4)))))
        case UInt8(ascii: "d"): return .real(Double(bitPattern: u(8)))
        case UInt8(ascii: "g"): return .real(Double(Float16Bits(UInt16(truncatingIfNeeded: u(2))).value))
        case UInt8(ascii: "c"): return .real(Double(Int16(truncatingIfNeeded: u(2))) * 0.01)
        case UInt8(ascii: "C"): return .real(Double(UInt16(truncatingIfNeeded: u(2))) * 0.01)
        case UInt8(ascii: "e"): return .real(Double(Int32(truncatingIfNeeded: u(4))) * 0.01)
        case UInt8(ascii: "E"): return .real(Double(UInt32(truncatingIfNeeded: u(4))) * 0.01)
        case UInt8(ascii: "L"): return .real(Double(Int32(truncatingIfNeeded: u(4))) * 1e-7)
        case UInt8(ascii: "n"): return .text(text(4))
        case UInt8(ascii: "N"): return .text(text(16))
        case UInt8(ascii: "Z"): return .text(text(64))
        case UInt8(ascii: "a"):
            return .array((0..<32).map { k in
                let at = o + 2 * k
                guard at + 1 < payload.count else { return 0 }
                return Int16(bitPattern: UInt16(payload[at]) | UInt16(payload[at + 1]) << 8)
            })
        default: return nil
        }
    }
}

/// An IEEE 754 half-precision value decoded without `Float16` (absent on some platforms).
struct Float16Bits {
    let value: Float

    init(_ bits: UInt16) {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Float(bits & 0x3FF)
        switch exponent {
        case 0: value = sign * fraction * Float(sign: .plus, exponent: -24, significand: 1)
        case 31: value = fraction == 0 ? sign * .infinity : .nan
        default: value = sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}

/// Why bytes of a DataFlash log were skipped.
public enum DataFlashProblem: Sendable, Equatable, CustomStringConvertible {
    /// The bytes there do not start a record (`0xA3 0x95`).
    case noRecordHead
    /// A record of a type that no FMT record described.
    case unknownType(UInt8)
    /// An FMT record whose length is shorter than a header, or that redefines FMT.
    case badFormat(type: UInt8)

    public var description: String {
        switch self {
        case .noRecordHead: return "no record head (0xA3 0x95)"
        case .unknownType(let type): return "record of type \(type), which no FMT record describes"
        case .badFormat(let type): return "FMT record for type \(type) with an impossible length or a redefinition of FMT"
        }
    }
}

/// The first problem a DataFlash reader met, with its byte offset.
public struct DataFlashError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The offset in the input of the first byte skipped.
    public var offset: Int
    public var problem: DataFlashProblem

    public var description: String { "byte \(offset): \(problem)" }
}

/// Reads an ArduPilot DataFlash log incrementally, in bounded memory.
///
/// Works like ``MAVLinkFrameDecoder``: ``append(contentsOf:)`` bytes, ``next()`` until nil
/// (more bytes are needed), ``finish()`` at the end; or from a file with
/// ``init(contentsOfFile:)``. FMT records are returned like the others (and define the
/// types after them). Bytes that do not start a record of a described type are skipped one
/// at a time, so reading resumes at the next good record after garbage or a corrupted
/// stretch; they are counted in ``droppedByteCount`` and ``firstError`` names the first.
/// A log cut inside a record gives every record before it and ``truncatedByteCount``. The
/// reader holds at most 256 formats, one record (at most 255 bytes) plus the bytes last
/// appended (or one file chunk).
public struct DataFlashReader: Sendable {
    /// Records returned.
    public private(set) var messageCount = 0
    /// Bytes skipped between records.
    public private(set) var droppedByteCount = 0
    /// Records of types whose format this reader cannot decode (skipped whole).
    public private(set) var undecodableCount = 0
    /// Once ``next()`` returned nil at the end of the input: the bytes after the last
    /// record (a record cut short, or garbage; 0 for a whole log), also counted in
    /// ``droppedByteCount`` when they start like a record.
    public private(set) var truncatedByteCount: Int?
    /// The first bytes skipped, and why.
    public private(set) var firstError: DataFlashError?
    /// A read error of the file, which ends the input.
    public var readError: FileReadError? { input.readError }
    /// The formats read so far, by type.
    public private(set) var formats: [UInt8: DataFlashFormat] = [DataFlash.formatType: .fmt]
    /// The bytes of the input consumed.
    public var consumedByteCount: Int { input.consumed }

    var input = ChunkedInput()
    var lastRecordEnd = 0

    /// Creates a reader that is fed bytes with ``append(contentsOf:)``.
    public init() {}

    /// Creates a reader of bytes that are all at hand.
    public init(bytes: some Collection<UInt8>) {
        input = ChunkedInput(bytes: bytes)
    }

    /// Creates a reader of a file, read in chunks as records are taken.
    /// - Throws: ``FileOpenError`` if the file cannot be opened.
    public init(contentsOfFile path: String) throws(FileOpenError) {
        input = try ChunkedInput(contentsOfFile: path)
    }

    /// Adds bytes to the input.
    /// - Precondition: the reader was not made from a file or all its bytes, and
    ///   ``finish()`` was not called.
    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        input.append(contentsOf: bytes, reader: "DataFlashReader")
    }

    /// Marks the end of the input.
    public mutating func finish() { input.ended = true }

    /// The next record, or nil when more bytes are needed or (once the input has ended)
    /// at the end.
    public mutating func next() -> DataFlashMessage? {
        while true {
            if let message = step() { return message }
            // step() returned nil: more bytes are needed.
            if input.refill() { continue }
            guard input.ended else { return nil }
            // A record that runs past the end: cut, or a false head. Skip a byte and look
            // on; what follows the last record is the truncated part.
            if input.available > 0 {
                input.readIndex += 1
                droppedByteCount += 1
                continue
            }
            truncatedByteCount = consumedByteCount - lastRecordEnd
            return nil
        }
    }

    /// Consumes records until one is returned or more bytes are needed (nil).
    private mutating func step() -> DataFlashMessage? {
        while true {
            let available = input.available
            guard available >= 3 else { return nil }
            let i = input.readIndex
            let buffer = input.buffer
            guard buffer[i] == DataFlash.head.0, buffer[i + 1] == DataFlash.head.1 else {
                skip(.noRecordHead)
                continue
            }
            guard let format = formats[buffer[i + 2]] else {
                skip(.unknownType(buffer[i + 2]))
                continue
            }
            guard available >= format.length else { return nil }
            let payload = Array(buffer[(i + 3)..<(i + format.length)])
            if format.type == DataFlash.formatType {
                let message = DataFlashMessage(format: format, payload: payload)
                let length = Int(payload[1])
                let type = payload[0]
                // A log may describe FMT itself (ArduPilot does): that one is kept as is.
                guard length >= 3, type != DataFlash.formatType || length == DataFlash.formatLength else {
                    skip(.badFormat(type: type))
                    continue
                }
                if type == DataFlash.formatType {
                    input.readIndex += format.length
                    lastRecordEnd = consumedByteCount
                    messageCount += 1
                    return message
                }
                let labels = message.value(at: 4).map { value -> [String] in
                    guard case .text(let text) = value, !text.isEmpty else { return [] }
                    return text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                } ?? []
                var formatText = Array(payload[6..<22])
                while formatText.last == 0 { formatText.removeLast() }
                let name: String
                if case .text(let text)? = message.value(at: 2) { name = text } else { name = "" }
                formats[type] = DataFlashFormat(type: type, length: length, name: name, format: formatText, labels: labels)
                input.readIndex += format.length
                lastRecordEnd = consumedByteCount
                messageCount += 1
                return message
            }
            input.readIndex += format.length
            lastRecordEnd = consumedByteCount
            guard format.isDecodable else {
                undecodableCount += 1
                continue
            }
            messageCount += 1
            return DataFlashMessage(format: format, payload: payload)
        }
    }

    private mutating func skip(_ problem: DataFlashProblem) {
        if firstError == nil { firstError = DataFlashError(offset: consumedByteCount, problem: problem) }
        input.readIndex += 1
        droppedByteCount += 1
    }
}
