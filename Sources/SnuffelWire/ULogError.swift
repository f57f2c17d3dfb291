/// An error in a ULog file, with the byte offset of the message (or header) where it was
/// found.
///
/// The description names the place first, then the reason, for example
/// `byte 1234 ('D' message): data for message id 7, which no 'A' message added`. Text
/// copied from the input is cut to 40 bytes.
public struct ULogError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The offset in the input of the first byte of the message (0 for the header).
    public var offset: Int
    /// The message's type byte, or nil for the file header.
    public var messageType: UInt8?
    public var reason: Reason

    public init(offset: Int, messageType: UInt8? = nil, reason: Reason) {
        self.offset = offset
        self.messageType = messageType
        self.reason = reason
    }

    public var description: String {
        var text = "byte \(offset)"
        if let messageType {
            if (0x20..<0x7F).contains(messageType) {
                text += " ('\(Character(Unicode.Scalar(messageType)))' message)"
            } else {
                text += " (message type \(messageType))"
            }
        } else {
            text += " (file header)"
        }
        return text + ": " + reason.description
    }

    /// What is wrong with the input.
    public enum Reason: Error, Sendable, Equatable, CustomStringConvertible {
        /// The file does not start with the ULog magic bytes.
        case badMagic
        /// A message's payload is larger than the reader's `maximumMessageSize`.
        case messageTooLarge(size: Int, limit: Int)
        /// A message's payload is too short for its type.
        case messageTooShort(size: Int, minimum: Int)
        /// A flag bits message ('B') that is not the first message.
        case flagBitsNotFirst
        /// The flag bits set incompatible flags this reader does not know (or appended
        /// data, which it does not read).
        case incompatibleFlags([UInt8])
        /// A format message ('F') that is not `name:type field;...`.
        case malformedFormat(String)
        /// A subscription ('A') names a format that was not defined, or a format uses a
        /// nested type that was not defined.
        case unknownFormat(String)
        /// A format nests too deeply, refers to itself, or is larger than a message.
        case formatTooLarge(String)
        /// A Snuffel topic's format lacks a field, or has it with another type.
        case fieldMismatch(topic: String, field: String, expectedType: String)
        /// A data message ('D') for a message id that no 'A' message added.
        case unknownMessageID(UInt16)
        /// A data message is shorter than its format.
        case dataTooShort(topic: String, size: Int, expected: Int)
        /// A sync message ('S') without the sync magic.
        case badSync
        /// The formats and subscriptions held exceed the reader's `maximumDefinitionBytes`.
        case definitionsTooLarge(limit: Int)
        /// A multi-info value exceeds the reader's `maximumDefinitionBytes`.
        case infoTooLong(limit: Int)
        /// An info message's key is not `type name`.
        case malformedInfoKey(String)
        /// A detection part (channel, compound or score) whose sequence is not that of the
        /// detection before it, or more parts than the detection announced.
        case unexpectedDetectionPart(sequence: UInt32)
        /// Reading the file failed; `code` is the `errno` value.
        case readFailed(code: Int32, message: String)

        public var description: String {
            switch self {
            case .badMagic:
                return "not a ULog file (no 'ULog' magic)"
            case .messageTooLarge(let size, let limit):
                return "message of \(size) bytes, more than the limit of \(limit)"
            case .messageTooShort(let size, let minimum):
                return "message of \(size) bytes, shorter than the \(minimum) its type needs"
            case .flagBitsNotFirst:
                return "flag bits message after the first message"
            case .incompatibleFlags(let flags):
                return "incompatible flags set (\(flags.map(String.init).joined(separator: " "))): cannot read the log"
            case .malformedFormat(let text):
                return "malformed format '\(text)'"
            case .unknownFormat(let name):
                return "format '\(name)' is not defined"
            case .formatTooLarge(let name):
                return "format '\(name)' nests too deeply, refers to itself or is too large"
            case .fieldMismatch(let topic, let field, let expectedType):
                return "format '\(topic)' lacks the field '\(expectedType) \(field)'"
            case .unknownMessageID(let id):
                return "data for message id \(id), which no 'A' message added"
            case .dataTooShort(let topic, let size, let expected):
                return "data of '\(topic)' has \(size) bytes, its format \(expected)"
            case .badSync:
                return "sync message without the sync magic"
            case .definitionsTooLarge(let limit):
                return "formats and subscriptions exceed \(limit) bytes"
            case .infoTooLong(let limit):
                return "multi-info value longer than \(limit) bytes"
            case .malformedInfoKey(let key):
                return "info key '\(key)' is not 'type name'"
            case .unexpectedDetectionPart(let sequence):
                return "detection part for detection \(sequence) does not follow that detection"
            case .readFailed(let code, let message):
                return "read failed: \(message) (errno \(code))"
            }
        }
    }
}

/// Text from the input for an error message: decoded leniently and cut to 40 bytes.
func ulogErrorText(_ bytes: some Collection<UInt8>) -> String {
    String(decoding: bytes.prefix(40), as: UTF8.self)
}
