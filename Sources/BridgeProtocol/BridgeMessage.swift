/// A block of consecutive scans: each scan holds one value of every enabled channel.
public struct BridgeSampleBlock: Equatable, Sendable {
    /// Bit *i* set: channel *i* is in the block. Values of a scan are in ascending
    /// channel order.
    public var channelMask: UInt16
    /// µs between two scans. The frame's time is the time of the first scan.
    public var intervalMicroseconds: UInt32
    /// Status bits that hold for every sample of the block.
    public var flags: BridgeSampleFlags
    /// Raw ADC values, scan after scan (12 bits on the STM32F405).
    public var values: [UInt16]

    /// Creates a block; `values` holds `channelMask.nonzeroBitCount` values per scan.
    public init(channelMask: UInt16, intervalMicroseconds: UInt32, flags: BridgeSampleFlags = [], values: [UInt16]) {
        self.channelMask = channelMask
        self.intervalMicroseconds = intervalMicroseconds
        self.flags = flags
        self.values = values
    }

    /// The number of channels in each scan.
    @inlinable public var channelCount: Int { channelMask.nonzeroBitCount }

    /// The number of scans in the block.
    @inlinable public var scanCount: Int { channelCount == 0 ? 0 : values.count / channelCount }

    /// The most scans a frame can hold with `channelCount` channels.
    public static func maximumScanCount(channelCount: Int) -> Int {
        channelCount == 0 ? 0 : min(255, (BridgeWire.maximumPayloadSize - 9) / (2 * channelCount))
    }
}

/// The bridge's state and counters.
public struct BridgeStatus: Equatable, Sendable {
    /// The firmware's major version.
    public var firmwareMajor: UInt8
    /// The firmware's minor version.
    public var firmwareMinor: UInt8
    /// Why the bridge last started.
    public var resetCause: BridgeResetCause
    /// Self-test, emulator and watchdog flags.
    public var flags: BridgeStatusFlags
    /// Scans per second.
    public var sampleRateHertz: UInt16
    /// The channels being sampled.
    public var channelMask: UInt16
    /// Levels of the GPIO outputs (bit *i*: output *i*).
    public var outputs: UInt8
    /// The analog channels the board has.
    public var channelCount: UInt8
    /// Scans dropped since start because the output could not keep up.
    public var droppedScans: UInt32
    /// ADC conversions that did not finish in time since start.
    public var conversionTimeouts: UInt32
    /// Received frames refused since start (bad COBS, CRC, version or length).
    public var rejectedFrames: UInt32

    /// Creates a status; the counters default to 0.
    public init(
        firmwareMajor: UInt8, firmwareMinor: UInt8, resetCause: BridgeResetCause, flags: BridgeStatusFlags,
        sampleRateHertz: UInt16, channelMask: UInt16, outputs: UInt8, channelCount: UInt8,
        droppedScans: UInt32 = 0, conversionTimeouts: UInt32 = 0, rejectedFrames: UInt32 = 0
    ) {
        self.firmwareMajor = firmwareMajor
        self.firmwareMinor = firmwareMinor
        self.resetCause = resetCause
        self.flags = flags
        self.sampleRateHertz = sampleRateHertz
        self.channelMask = channelMask
        self.outputs = outputs
        self.channelCount = channelCount
        self.droppedScans = droppedScans
        self.conversionTimeouts = conversionTimeouts
        self.rejectedFrames = rejectedFrames
    }
}

/// The bridge's answer to a command.
public struct BridgeAcknowledgement: Equatable, Sendable {
    /// The type byte of the command answered.
    public var commandType: UInt8
    /// The sequence number of the command's frame.
    public var commandSequence: UInt32
    /// Whether the command was carried out.
    public var result: BridgeCommandResult
    /// What is in force after the command: for ping the protocol version times 65,536
    /// plus the firmware's major version times 256 plus its minor version; for set-rate
    /// the rate in Hz; for enable-channels the channel mask; for set-outputs the output
    /// levels; 0 for reset.
    public var value: UInt32

    /// Creates an acknowledgement.
    public init(commandType: UInt8, commandSequence: UInt32, result: BridgeCommandResult, value: UInt32) {
        self.commandType = commandType
        self.commandSequence = commandSequence
        self.result = result
        self.value = value
    }
}

/// A command from the host.
public enum BridgeCommand: Equatable, Sendable {
    /// Answer with the versions.
    case ping
    /// Sample at `hertz` scans per second (the bridge says which rates it can do).
    case setRate(hertz: UInt16)
    /// Sample the channels whose bits are set.
    case enableChannels(mask: UInt16)
    /// Set the outputs whose bit is set in `mask` to the level of the same bit in `levels`.
    case setOutputs(mask: UInt8, levels: UInt8)
    /// Acknowledge, then restart.
    case reset

    /// The frame type of the command.
    public var type: BridgeMessageType {
        switch self {
        case .ping: .ping
        case .setRate: .setRate
        case .enableChannels: .enableChannels
        case .setOutputs: .setOutputs
        case .reset: .reset
        }
    }
}

/// What a frame carries.
public enum BridgeMessage: Equatable, Sendable {
    case samples(BridgeSampleBlock)
    case status(BridgeStatus)
    case acknowledgement(BridgeAcknowledgement)
    case command(BridgeCommand)

    /// The frame type of the message.
    public var type: BridgeMessageType {
        switch self {
        case .samples: .samples
        case .status: .status
        case .acknowledgement: .acknowledgement
        case .command(let command): command.type
        }
    }
}
