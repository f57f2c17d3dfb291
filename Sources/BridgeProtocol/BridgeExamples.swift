/// One example frame of firmware-bridge/PROTOCOL.md: the frame and its bytes on the wire.
public struct BridgeExample: Sendable {
    /// The example's name in PROTOCOL.md.
    public var name: StaticString
    /// The frame the bytes stand for.
    public var frame: BridgeFrame
    /// The frame on the wire: COBS bytes and the delimiter.
    public var wire: [UInt8]
}

/// The example frames of firmware-bridge/PROTOCOL.md, byte for byte.
///
/// Both sides check them: the host tests compare these with the document and encode and
/// decode each, and the firmware does the same at start-up and reports the result in
/// ``BridgeStatusFlags/selfTestPassed``.
public enum BridgeExamples {
    /// Every example, in the document's order.
    public static var all: [BridgeExample] {
        [
            BridgeExample(
                name: "samples",
                frame: BridgeFrame(
                    sequence: 7, time: 1_000_000,
                    message: .samples(BridgeSampleBlock(
                        channelMask: 0b11, intervalMicroseconds: 10_000, flags: .testSignal,
                        values: [0x0100, 0x0200, 0x0101, 0x0201]))),
                wire: [
                    0x04, 0x01, 0x01, 0x07, 0x01, 0x01, 0x04, 0x40, 0x42, 0x0F, 0x01, 0x01, 0x01, 0x01, 0x02,
                    0x03, 0x03, 0x10, 0x27, 0x01, 0x02, 0x01, 0x02, 0x02, 0x02, 0x01, 0x08, 0x02, 0x01, 0x01,
                    0x01, 0x02, 0xB4, 0xE0, 0x00,
                ]),
            BridgeExample(
                name: "status",
                frame: BridgeFrame(
                    sequence: 0, time: 0,
                    message: .status(BridgeStatus(
                        firmwareMajor: 1, firmwareMinor: 0, resetCause: .powerOn,
                        flags: [.selfTestPassed, .watchdogRunning], sampleRateHertz: 100, channelMask: 0x00FF,
                        outputs: 0, channelCount: 8))),
                wire: [
                    0x03, 0x01, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02,
                    0x01, 0x04, 0x01, 0x05, 0x64, 0x02, 0xFF, 0x01, 0x02, 0x08, 0x01, 0x01, 0x01, 0x01, 0x01,
                    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x03, 0xC5, 0x95, 0x00,
                ]),
            BridgeExample(
                name: "ping",
                frame: BridgeFrame(sequence: 1, time: 0, message: .command(.ping)),
                wire: [
                    0x04, 0x01, 0x80, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x03,
                    0x64, 0xDE, 0x00,
                ]),
            BridgeExample(
                name: "ping-ack",
                frame: BridgeFrame(
                    sequence: 8, time: 1_020_000,
                    message: .acknowledgement(BridgeAcknowledgement(
                        commandType: 0x80, commandSequence: 1, result: .ok, value: 0x01_01_00))),
                wire: [
                    0x04, 0x01, 0x03, 0x08, 0x01, 0x01, 0x04, 0x60, 0x90, 0x0F, 0x01, 0x01, 0x01, 0x01, 0x03,
                    0x80, 0x01, 0x01, 0x01, 0x01, 0x01, 0x03, 0x01, 0x01, 0x03, 0xBB, 0x72, 0x00,
                ]),
            BridgeExample(
                name: "set-rate",
                frame: BridgeFrame(sequence: 2, time: 0, message: .command(.setRate(hertz: 200))),
                wire: [
                    0x04, 0x01, 0x81, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02,
                    0xC8, 0x03, 0x51, 0xFF, 0x00,
                ]),
            BridgeExample(
                name: "enable-channels",
                frame: BridgeFrame(sequence: 3, time: 0, message: .command(.enableChannels(mask: 0x000F))),
                wire: [
                    0x04, 0x01, 0x82, 0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02,
                    0x0F, 0x03, 0x46, 0x78, 0x00,
                ]),
            BridgeExample(
                name: "set-outputs",
                frame: BridgeFrame(sequence: 4, time: 0, message: .command(.setOutputs(mask: 0x03, levels: 0x01))),
                wire: [
                    0x04, 0x01, 0x83, 0x04, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x05,
                    0x03, 0x01, 0xCD, 0xCE, 0x00,
                ]),
            BridgeExample(
                name: "reset",
                frame: BridgeFrame(sequence: 5, time: 0, message: .command(.reset)),
                wire: [
                    0x04, 0x01, 0x84, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x03,
                    0x6C, 0xA7, 0x00,
                ]),
        ]
    }

    /// Encodes and decodes every example and compares with its bytes: the self-test both
    /// sides run.
    ///
    /// - Returns: True if every example encodes to its bytes and its bytes decode to it.
    public static func selfTest() -> Bool {
        var output: [UInt8] = []
        var scratch: [UInt8] = []
        for example in all {
            output.removeAll(keepingCapacity: true)
            guard example.frame.encode(appendingTo: &output, scratch: &scratch), output == example.wire else {
                return false
            }
            guard let decoded = try? BridgeFrame.decode(encoded: example.wire.dropLast(), scratch: &scratch),
                decoded == example.frame
            else { return false }
        }
        return CRC16.checksum("123456789".utf8) == CRC16.checkValue
    }
}
