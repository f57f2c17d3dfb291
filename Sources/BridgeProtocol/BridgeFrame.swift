/// One frame of the bridge protocol: who sent it when, and what it carries.
public struct BridgeFrame: Equatable, Sendable {
    /// The sender's frame counter: 0 for its first frame after a start, then one more
    /// for each frame it sends (wrapping).
    public var sequence: UInt32
    /// The sender's clock in µs (the bridge's time since start; 0 from a host that does
    /// not say).
    public var time: UInt64
    /// What the frame carries; its type byte follows from it.
    public var message: BridgeMessage

    /// Creates a frame.
    public init(sequence: UInt32, time: UInt64, message: BridgeMessage) {
        self.sequence = sequence
        self.time = time
        self.message = message
    }
}

/// Why bytes between two delimiters are not a frame.
public enum BridgeFrameError: Error, Equatable, Sendable {
    /// The bytes are not valid COBS.
    case invalidCOBS
    /// The decoded frame is shorter than a header and a CRC.
    case tooShort(count: Int)
    /// The frame is longer than ``BridgeWire/maximumRawFrameSize`` (counted before COBS
    /// decoding: encoded bytes).
    case tooLong(count: Int)
    /// The CRC in the frame is not the CRC of its bytes.
    case crcMismatch(received: UInt16, computed: UInt16)
    /// The version byte is not ``BridgeWire/version``.
    case unsupportedVersion(UInt8)
    /// The type byte names no message.
    case unknownType(UInt8)
    /// The payload's length does not fit the message type.
    case badPayloadLength(type: UInt8, count: Int)
    /// A field holds a value the message cannot have.
    case invalidField(type: UInt8)
}

extension BridgeFrame {
    /// Appends the frame as it goes on the wire — COBS-encoded, with its CRC and the
    /// delimiter — to `output`.
    ///
    /// - Parameters:
    ///   - output: Receives at most ``BridgeWire/maximumEncodedFrameSize`` bytes.
    ///   - scratch: A buffer for the raw frame; emptied first. Passing the same buffer
    ///     each time spares an allocation per frame.
    /// - Returns: False, with nothing appended, if the payload is too long for a frame
    ///   (a sample block with more than
    ///   ``BridgeSampleBlock/maximumScanCount(channelCount:)`` scans).
    /// - Complexity: O(*n*) in the frame's size.
    @discardableResult
    public func encode(appendingTo output: inout [UInt8], scratch: inout [UInt8]) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(BridgeWire.version)
        scratch.append(message.type.rawValue)
        scratch.appendLittleEndian(sequence)
        scratch.appendLittleEndian(time)
        switch message {
        case .samples(let block):
            guard block.scanCount <= 255 else { return false }
            scratch.appendLittleEndian(block.channelMask)
            scratch.appendLittleEndian(block.intervalMicroseconds)
            scratch.appendLittleEndian(block.flags.rawValue)
            scratch.append(UInt8(block.scanCount))
            for value in block.values.prefix(block.scanCount * block.channelCount) {
                scratch.appendLittleEndian(value)
            }
        case .status(let status):
            scratch.append(status.firmwareMajor)
            scratch.append(status.firmwareMinor)
            scratch.append(status.resetCause.rawValue)
            scratch.append(status.flags.rawValue)
            scratch.appendLittleEndian(status.sampleRateHertz)
            scratch.appendLittleEndian(status.channelMask)
            scratch.append(status.outputs)
            scratch.append(status.channelCount)
            scratch.appendLittleEndian(status.droppedScans)
            scratch.appendLittleEndian(status.conversionTimeouts)
            scratch.appendLittleEndian(status.rejectedFrames)
        case .acknowledgement(let ack):
            scratch.append(ack.commandType)
            scratch.appendLittleEndian(ack.commandSequence)
            scratch.append(ack.result.rawValue)
            scratch.appendLittleEndian(ack.value)
        case .command(let command):
            switch command {
            case .ping, .reset:
                break
            case .setRate(let hertz):
                scratch.appendLittleEndian(hertz)
            case .enableChannels(let mask):
                scratch.appendLittleEndian(mask)
            case .setOutputs(let mask, let levels):
                scratch.append(mask)
                scratch.append(levels)
            }
        }
        guard scratch.count + BridgeWire.crcSize <= BridgeWire.maximumRawFrameSize else { return false }
        let crc = CRC16.checksum(scratch)
        scratch.append(UInt8(truncatingIfNeeded: crc >> 8))
        scratch.append(UInt8(truncatingIfNeeded: crc))
        COBS.encode(scratch, appendingTo: &output)
        output.append(BridgeWire.delimiter)
        return true
    }

    /// The frame as it goes on the wire, delimiter included.
    ///
    /// - Returns: The bytes, or an empty array if the payload is too long for a frame.
    public func encoded() -> [UInt8] {
        var output: [UInt8] = []
        var scratch: [UInt8] = []
        return encode(appendingTo: &output, scratch: &scratch) ? output : []
    }

    /// Decodes the bytes between two delimiters.
    ///
    /// - Parameters:
    ///   - encoded: COBS bytes without the delimiter.
    ///   - scratch: A buffer for the decoded bytes; emptied first.
    /// - Returns: The frame.
    /// - Throws: ``BridgeFrameError`` naming the first thing wrong.
    /// - Complexity: O(*n*).
    public static func decode(
        encoded: some Collection<UInt8>, scratch: inout [UInt8]
    ) throws(BridgeFrameError) -> BridgeFrame {
        let encodedCount = encoded.count
        if encodedCount > BridgeWire.maximumRawFrameSize + 1 { throw .tooLong(count: encodedCount) }
        scratch.removeAll(keepingCapacity: true)
        guard COBS.decode(encoded, appendingTo: &scratch) else { throw .invalidCOBS }
        let count = scratch.count
        if count < BridgeWire.headerSize + BridgeWire.crcSize { throw .tooShort(count: count) }
        let computed = CRC16.checksum(scratch[0..<(count - 2)])
        let received = UInt16(scratch[count - 2]) << 8 | UInt16(scratch[count - 1])
        if computed != received { throw .crcMismatch(received: received, computed: computed) }
        if scratch[0] != BridgeWire.version { throw .unsupportedVersion(scratch[0]) }
        let typeByte = scratch[1]
        guard let type = BridgeMessageType(rawValue: typeByte) else { throw .unknownType(typeByte) }
        var reader = ByteReader(bytes: scratch, index: 2, end: count - 2)
        let sequence = reader.u32()
        let time = reader.u64()
        let payloadCount = reader.remaining
        func expect(_ size: Int) throws(BridgeFrameError) {
            if payloadCount != size { throw .badPayloadLength(type: typeByte, count: payloadCount) }
        }
        let message: BridgeMessage
        switch type {
        case .samples:
            guard payloadCount >= 9 else { throw .badPayloadLength(type: typeByte, count: payloadCount) }
            let mask = reader.u16()
            let interval = reader.u32()
            let flags = BridgeSampleFlags(rawValue: reader.u16())
            let scans = Int(reader.u8())
            try expect(9 + 2 * scans * mask.nonzeroBitCount)
            var values: [UInt16] = []
            values.reserveCapacity(scans * mask.nonzeroBitCount)
            for _ in 0..<(scans * mask.nonzeroBitCount) { values.append(reader.u16()) }
            message = .samples(BridgeSampleBlock(
                channelMask: mask, intervalMicroseconds: interval, flags: flags, values: values))
        case .status:
            try expect(22)
            let major = reader.u8(), minor = reader.u8()
            let causeByte = reader.u8()
            guard let cause = BridgeResetCause(rawValue: causeByte) else { throw .invalidField(type: typeByte) }
            let flags = BridgeStatusFlags(rawValue: reader.u8())
            message = .status(BridgeStatus(
                firmwareMajor: major, firmwareMinor: minor, resetCause: cause, flags: flags,
                sampleRateHertz: reader.u16(), channelMask: reader.u16(), outputs: reader.u8(),
                channelCount: reader.u8(), droppedScans: reader.u32(), conversionTimeouts: reader.u32(),
                rejectedFrames: reader.u32()))
        case .acknowledgement:
            try expect(10)
            let commandType = reader.u8()
            let commandSequence = reader.u32()
            guard let result = BridgeCommandResult(rawValue: reader.u8()) else { throw .invalidField(type: typeByte) }
            message = .acknowledgement(BridgeAcknowledgement(
                commandType: commandType, commandSequence: commandSequence, result: result, value: reader.u32()))
        case .ping:
            try expect(0)
            message = .command(.ping)
        case .setRate:
            try expect(2)
            message = .command(.setRate(hertz: reader.u16()))
        case .enableChannels:
            try expect(2)
            message = .command(.enableChannels(mask: reader.u16()))
        case .setOutputs:
            try expect(2)
            let mask = reader.u8()
            message = .command(.setOutputs(mask: mask, levels: reader.u8()))
        case .reset:
            try expect(0)
            message = .command(.reset)
        }
        return BridgeFrame(sequence: sequence, time: time, message: message)
    }
}

/// Little-endian loads from a decoded frame; the caller has checked the length.
struct ByteReader {
    let bytes: [UInt8]
    var index: Int
    let end: Int

    var remaining: Int { end - index }

    mutating func u8() -> UInt8 {
        let value = bytes[index]
        index += 1
        return value
    }

    mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }
    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
    mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
}

extension Array where Element == UInt8 {
    /// Appends an integer's bytes, least significant first.
    mutating func appendLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        for shift in stride(from: 0, to: T.bitWidth, by: 8) {
            append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }
}
