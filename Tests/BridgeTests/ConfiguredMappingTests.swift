import BridgeProtocol
import SnuffelConfig
import SnuffelCore
import SnuffelWire
import Testing

@Suite("Bridge samples mapped by the payload configuration")
struct ConfiguredMappingTests {
    /// Three channels: the H2S cell from an ADS1115 on I2C (no bridge), the PID on bridge channel 1 and the
    /// NH3 cell on bridge channel 0, all at the example frames' 100 Hz.
    static let payload = """
        signatures = "\(packageRoot)/calibration/signatures.toml"

        [payload]
        name = "bridge-test"

        [[sources]]
        id = "adc"
        kind = "i2c"
        device = "/dev/i2c-1"
        address = 0x48

        [[sources]]
        id = "bridge"
        kind = "bridge"
        tcp = "127.0.0.1:5760"
        rate_hz = 100

        [[channels]]
        id = "h2s"
        kind = "electrochemical"
        gas = "h2s"
        rate_hz = 2
        calibration = {}
        source = "adc"
        source_channel = 2

        [[channels]]
        id = "pid"
        kind = "pid"
        rate_hz = 100
        calibration = {}
        source = "bridge"
        source_channel = 1

        [[channels]]
        id = "nh3"
        kind = "electrochemical"
        gas = "nh3"
        rate_hz = 100
        calibration = {}
        source = "bridge"
        source_channel = 0
        """

    @Test("PROTOCOL.md's samples frame, decoded by the host decoder, gives Samples on the payload's channel indices")
    func documentedSamplesFrame() throws {
        let configuration = try PayloadConfiguration.parse(text: Self.payload, path: "bridge-test.toml")
        let mapping = try BridgeSampleMapping(configuration: configuration, timeOffset: 5_000)
        #expect(mapping.channels == [2, 1])

        let wire = try #require(documentedExamples().first { $0.name == "samples" }).bytes
        // Byte by byte, as a serial port may deliver it.
        var decoder = BridgeDecoder()
        var samples: [Sample] = []
        for byte in wire {
            decoder.append(contentsOf: [byte])
            while let frame = try decoder.next() {
                guard case .samples(let block) = frame.message else { continue }
                #expect(mapping.append(block, time: frame.time, to: &samples) == 0)
            }
        }
        // Sequence 7 at 1,000,000 µs, 10,000 µs apart, test signal: bridge channel 0
        // (0x0100, then 0x0101) is nh3 (index 2), bridge channel 1 (0x0200, 0x0201) is pid (index 1).
        let status = BridgeSampleFlags.testSignal.rawValue
        #expect(samples == [
            Sample(channel: 2, time: 1_005_000, value: 0x0100, status: status),
            Sample(channel: 1, time: 1_005_000, value: 0x0200, status: status),
            Sample(channel: 2, time: 1_015_000, value: 0x0101, status: status),
            Sample(channel: 1, time: 1_015_000, value: 0x0201, status: status),
        ])
        #expect(configuration.bridgeChannelMask(of: "bridge") == 0b11)
        #expect(try configuration.bridgeSource().link == .tcp(host: "127.0.0.1", port: 5760))
    }

    @Test("a payload without a bridge source gives no mapping, and says why")
    func noBridge() throws {
        let text = Self.payload.replacingOccurrences(of: "kind = \"bridge\"", with: "kind = \"serial\"")
            .replacingOccurrences(of: "tcp = \"127.0.0.1:5760\"\nrate_hz = 100", with: "device = \"/dev/ttyUSB0\"")
            .replacingOccurrences(of: "source_channel = 1\n", with: "").replacingOccurrences(of: "\nsource_channel = 0", with: "")
        let configuration = try PayloadConfiguration.parse(text: text, path: "bridge-test.toml")
        #expect(throws: ConfigurationError.self) { try BridgeSampleMapping(configuration: configuration) }
    }
}
