/// Constants of the bridge protocol's wire format (firmware-bridge/PROTOCOL.md).
///
/// A frame on the wire is `COBS(header, payload, CRC) 0x00`. The header is the version
/// (1 byte), the message type (1), the sender's sequence number (4, little-endian) and
/// the sender's time in µs (8, little-endian); the CRC is CRC-16/CCITT-FALSE over header
/// and payload, high byte first, so that the CRC over the whole raw frame is 0.
public enum BridgeWire {
    /// The protocol version this code speaks.
    public static let version: UInt8 = 1
    /// Bytes before the payload: version, type, sequence, time.
    public static let headerSize = 14
    /// Bytes of the CRC after the payload.
    public static let crcSize = 2
    /// The most bytes a raw frame (header, payload, CRC) may hold: 254, so that COBS adds
    /// exactly one byte.
    public static let maximumRawFrameSize = 254
    /// The most payload bytes a frame may hold.
    public static let maximumPayloadSize = maximumRawFrameSize - headerSize - crcSize
    /// The most bytes a frame takes on the wire, delimiter included.
    public static let maximumEncodedFrameSize = maximumRawFrameSize + 2
    /// The frame delimiter.
    public static let delimiter: UInt8 = 0
    /// The most analog channels a bridge can have (bits of a channel mask).
    public static let maximumChannelCount = 16
}

/// The type byte of a frame. Bridge-to-host types are below 0x80, host-to-bridge
/// commands from 0x80.
public enum BridgeMessageType: UInt8, Sendable {
    /// A block of samples (bridge to host).
    case samples = 0x01
    /// The bridge's state and counters (bridge to host), sent at start and every second.
    case status = 0x02
    /// The answer to a command (bridge to host).
    case acknowledgement = 0x03
    /// Command: answer with the protocol and firmware version.
    case ping = 0x80
    /// Command: set the sample rate.
    case setRate = 0x81
    /// Command: choose the channels that are sampled.
    case enableChannels = 0x82
    /// Command: switch GPIO outputs.
    case setOutputs = 0x83
    /// Command: acknowledge, then restart the bridge.
    case reset = 0x84
}

/// Status bits of a sample block; each sample of the block carries them.
public struct BridgeSampleFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The values come from the firmware's test signal, not from the ADC.
    public static let testSignal = BridgeSampleFlags(rawValue: 1 << 0)
    /// At least one conversion of the block did not finish in time; its value is 0xFFFF.
    public static let conversionTimeout = BridgeSampleFlags(rawValue: 1 << 1)
    /// Scans were dropped just before this block (the output could not keep up).
    public static let overrun = BridgeSampleFlags(rawValue: 1 << 2)
}

/// Flags of the bridge's status.
public struct BridgeStatusFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The firmware's start-up self-test encoded and decoded the protocol's example
    /// frames to the same bytes as ``BridgeExamples``.
    public static let selfTestPassed = BridgeStatusFlags(rawValue: 1 << 0)
    /// The firmware found itself in an emulator (no clock controller) and samples its
    /// test signal.
    public static let emulated = BridgeStatusFlags(rawValue: 1 << 1)
    /// The independent watchdog is running.
    public static let watchdogRunning = BridgeStatusFlags(rawValue: 1 << 2)
}

/// Why the bridge last started, as its reset controller tells.
public enum BridgeResetCause: UInt8, Sendable {
    case unknown = 0
    case powerOn = 1
    case resetPin = 2
    case watchdog = 3
    case software = 4
}

/// The outcome of a command.
public enum BridgeCommandResult: UInt8, Sendable {
    /// Done; the acknowledgement's value tells the state in force.
    case ok = 0
    /// The command's argument is out of range; nothing changed.
    case badArgument = 1
    /// The bridge does not know the command.
    case unknownCommand = 2
    /// The payload has the wrong length for the command.
    case malformed = 3
}
