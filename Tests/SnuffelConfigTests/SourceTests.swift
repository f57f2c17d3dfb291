import Foundation
import SnuffelConfig
import SnuffelCore
import Testing

/// A bridge source and two I2C parts, with the PID on bridge channel 1 and the NH3 cell on
/// bridge channel 0.
private let sources = """
    [[sources]]
    id = "bridge"
    kind = "bridge"
    device = "/dev/ttyACM0"
    rate_hz = 10

    [[sources]]
    id = "sgp41"
    kind = "i2c"
    device = "/dev/i2c-1"
    address = 0x59

    [[sources]]
    id = "ze07"
    kind = "serial"
    device = "/dev/ttyUSB0"
    """

private let sourcedChannels = """
    [[channels]]
    id = "pid"
    kind = "pid"
    rate_hz = 10
    calibration = { noise_floor = 2 }
    source = "bridge"
    source_channel = 1

    [[channels]]
    id = "nh3"
    kind = "electrochemical"
    gas = "nh3"
    rate_hz = 10
    calibration = { noise_floor = 0.05 }
    source = "bridge"
    source_channel = 0

    [[channels]]
    id = "voc"
    kind = "sraw_voc"
    rate_hz = 1
    calibration = {}
    source = "sgp41"
    """

private func sourced(channels: String = sourcedChannels, sources text: String = sources) -> String {
    payloadText(channels: channels, extra: text)
}

/// The refusal of `sourced()` with `old` replaced by `new` (exactly once).
private func refusalReplacing(_ old: String, with new: String, inSources: Bool = false) -> ConfigurationError? {
    let text = inSources ? sources : sourcedChannels
    #expect(text.components(separatedBy: old).count == 2, "'\(old)' must occur once")
    let changed = text.replacingOccurrences(of: old, with: new)
    return refusal { try parsePayload(inSources ? sourced(sources: changed) : sourced(channels: changed)) }
}

@Suite("Payload sources: the bridge, I2C parts and serial modules channels are read from")
struct SourceTests {
    @Test("sources and channel sources are read, with their defaults")
    func loads() throws {
        let configuration = try parsePayload(sourced())
        #expect(configuration.sources == [
            PayloadSource(id: "bridge", kind: .bridge, link: .serial(device: "/dev/ttyACM0", baud: 115_200), rateHz: 10),
            PayloadSource(id: "sgp41", kind: .i2c, link: .i2c(bus: "/dev/i2c-1", address: 0x59), part: .sgp41),
            PayloadSource(id: "ze07", kind: .serial, link: .serial(device: "/dev/ttyUSB0", baud: 9600), part: .winsenZE07),
        ])
        #expect(configuration.channelSources == [
            ChannelSource(source: "bridge", sourceChannel: 1), ChannelSource(source: "bridge", sourceChannel: 0),
            ChannelSource(source: "sgp41"),
        ])
        #expect(configuration.bridgeChannels(of: "bridge") == [1, 0])
        #expect(configuration.bridgeChannelMask(of: "bridge") == 0b11)
        #expect(try configuration.bridgeSource().id == "bridge")
    }

    @Test("a payload without sources loads as before: no sources, no channel sources")
    func backwardCompatible() throws {
        let configuration = try parsePayload(payloadText())
        #expect(configuration.sources.isEmpty)
        #expect(configuration.channelSources == [nil, nil])
        expectRefusal(refusal { try configuration.bridgeSource() }, file: "payload.toml", key: "sources", reason: "no [[sources]] entry of kind \"bridge\"")
    }

    @Test("a bridge over TCP, and an explicit baud rate")
    func tcpAndBaud() throws {
        let tcp = sources.replacingOccurrences(of: "device = \"/dev/ttyACM0\"", with: "tcp = \"127.0.0.1:5760\"")
            .replacingOccurrences(of: "device = \"/dev/ttyUSB0\"", with: "device = \"/dev/ttyUSB0\"\nbaud = 19200")
        let configuration = try parsePayload(sourced(sources: tcp))
        #expect(configuration.sources[0].link == .tcp(host: "127.0.0.1", port: 5760))
        #expect(configuration.sources[2].link == .serial(device: "/dev/ttyUSB0", baud: 19200))
    }

    @Test("unknown keys, per kind, and wrong types are refused with the key")
    func keysAndTypes() {
        expectRefusal(
            refusalReplacing("address = 0x59", with: "address = 0x59\nbaud = 9600", inSources: true),
            file: "payload.toml", key: "sources.sgp41.baud", reason: "unknown key 'baud'")
        expectRefusal(
            refusalReplacing("rate_hz = 10\n\n[[sources]]", with: "rate = 10\n\n[[sources]]", inSources: true),
            file: "payload.toml", key: "sources.bridge.rate", reason: "did you mean 'rate_hz'?")
        expectRefusal(
            refusalReplacing("address = 0x59", with: "address = \"0x59\"", inSources: true),
            file: "payload.toml", key: "sources.sgp41.address", reason: "expected an integer, got string '0x59'")
        expectRefusal(
            refusalReplacing("source_channel = 1", with: "source_channel = \"1\""),
            file: "payload.toml", key: "channels.pid.source_channel", reason: "expected an integer")
        expectRefusal(
            refusalReplacing("source = \"sgp41\"", with: "source = 3"),
            file: "payload.toml", key: "channels.voc.source", reason: "expected a string, got integer 3")
        expectRefusal(
            refusal { try parsePayload("sources = 3\n" + payloadText()) },
            file: "payload.toml", key: "sources", reason: "expected an array of tables")
        expectRefusal(
            refusalReplacing("kind = \"i2c\"", with: "kind = \"i2s\"", inSources: true),
            file: "payload.toml", key: "sources.sgp41.kind", reason: "unknown source kind 'i2s' (did you mean 'i2c'?)")
        expectRefusal(
            refusalReplacing("id = \"ze07\"", with: "id = \"sgp41\"", inSources: true),
            file: "payload.toml", key: "sources[2].id", reason: "duplicate source id 'sgp41' (sources[1] has it too)")
    }

    @Test("a channel naming an unknown source is refused, with a suggestion")
    func unknownSource() {
        expectRefusal(
            refusalReplacing("source = \"sgp41\"", with: "source = \"sgp40\""),
            file: "payload.toml", key: "channels.voc.source",
            reason: "unknown source 'sgp40' (did you mean 'sgp41'?); the payload's sources are bridge, sgp41, ze07")
        expectRefusal(
            refusal { try parsePayload(payloadText(channels: sourcedChannels)) },
            file: "payload.toml", key: "channels.pid.source", reason: "declare it in a [[sources]] table")
    }

    @Test("two payload channels on one bridge channel are refused")
    func sharedBridgeChannel() {
        expectRefusal(
            refusalReplacing("source_channel = 0", with: "source_channel = 1"),
            file: "payload.toml", key: "channels.nh3.source_channel",
            reason: "bridge channel 1 of source 'bridge' is already channel 'pid's")
    }

    @Test("bridge channels out of range, missing, or on a source that is not a bridge are refused")
    func bridgeChannelRules() {
        expectRefusal(
            refusalReplacing("source_channel = 1", with: "source_channel = 16"),
            file: "payload.toml", key: "channels.pid.source_channel", reason: "a bridge channel is 0 to 15; got 16")
        expectRefusal(
            refusalReplacing("source_channel = 1", with: "source_channel = -1"),
            file: "payload.toml", key: "channels.pid.source_channel", reason: "got -1")
        expectRefusal(
            refusalReplacing("source_channel = 1\n", with: ""),
            file: "payload.toml", key: "channels.pid.source_channel", reason: "missing required key 'source_channel'")
        expectRefusal(
            refusalReplacing("source = \"sgp41\"", with: "source = \"sgp41\"\nsource_channel = 2"),
            file: "payload.toml", key: "channels.voc.source_channel", reason: "only channels of a bridge or an ADC (ads1115) source take source_channel; source 'sgp41' is sgp41")
        expectRefusal(
            refusalReplacing("source = \"sgp41\"", with: "source_channel = 2"),
            file: "payload.toml", key: "channels.voc.source_channel", reason: "source_channel needs a source")
        expectRefusal(
            refusalReplacing("rate_hz = 10\ncalibration = { noise_floor = 0.05 }", with: "rate_hz = 1\ncalibration = { noise_floor = 0.05 }"),
            file: "payload.toml", key: "channels.nh3.rate_hz", reason: "samples at 10 Hz (its rate_hz), so a channel it feeds has rate_hz = 10")
    }

    @Test("bad I2C addresses, rates, bauds and connections are refused", arguments: [
        ("address = 0x59", "address = 0x78", "sources.sgp41.address", "0x08 to 0x77 (the rest are reserved); got 0x78"),
        ("address = 0x59", "address = 0x03", "sources.sgp41.address", "got 0x3"),
        ("address = 0x59", "address = -1", "sources.sgp41.address", "got -1"),
        ("address = 0x59\n", "", "sources.sgp41.address", "missing required key 'address'"),
        ("rate_hz = 10\n\n", "rate_hz = 3\n\n", "sources.bridge.rate_hz", "dividing 1000"),
        ("rate_hz = 10\n\n", "\n", "sources.bridge.rate_hz", "missing required key 'rate_hz'"),
        ("device = \"/dev/ttyACM0\"", "device = \"/dev/ttyACM0\"\nbaud = 12345", "sources.bridge.baud", "expected one of 9600"),
        ("device = \"/dev/ttyACM0\"", "tcp = \"localhost\"", "sources.bridge.tcp", "expected host:port"),
        ("device = \"/dev/ttyACM0\"", "tcp = \"localhost:0\"", "sources.bridge.tcp", "expected host:port"),
        ("device = \"/dev/ttyACM0\"", "device = \"/dev/ttyACM0\"\ntcp = \"h:1\"", "sources.bridge.tcp", "not both"),
        ("device = \"/dev/ttyACM0\"", "", "sources.bridge.device", "missing required key 'device'"),
        ("device = \"/dev/i2c-1\"", "device = \"\"", "sources.sgp41.device", "must not be empty"),
        ("device = \"/dev/ttyUSB0\"", "device = \"/dev/ttyACM0\"", "sources.ze07.device", "source 'bridge' is at /dev/ttyACM0 too"),
    ])
    func badSources(old: String, new: String, key: String, reason: String) {
        expectRefusal(refusalReplacing(old, with: new, inSources: true), file: "payload.toml", key: key, reason: reason)
    }

    @Test("two parts at one address of one bus are refused; the same address on another bus is fine")
    func sharedAddress() throws {
        let second = "\n[[sources]]\nid = \"sht4x\"\nkind = \"i2c\"\ndevice = \"/dev/i2c-1\"\naddress = 0x59\n"
        expectRefusal(
            refusal { try parsePayload(sourced(sources: sources + second)) },
            file: "payload.toml", key: "sources.sht4x.address", reason: "source 'sgp41' is at /dev/i2c-1 address 0x59 too")
        let otherBus = second.replacingOccurrences(of: "i2c-1", with: "i2c-3")
        #expect(try parsePayload(sourced(sources: sources + otherBus)).sources.count == 4)
    }

    @Test("the bridge source is found by id, and refused when it is not a bridge or there are several")
    func bridgeSourceLookup() throws {
        let configuration = try parsePayload(sourced())
        #expect(try configuration.bridgeSource("bridge").rateHz == 10)
        expectRefusal(refusal { try configuration.bridgeSource("sgp41") }, file: "payload.toml", key: "sources.sgp41.kind", reason: "not a bridge")
        expectRefusal(refusal { try configuration.bridgeSource("nope") }, file: "payload.toml", key: "sources", reason: "no source 'nope'")
        let two = sources + "\n[[sources]]\nid = \"bridge2\"\nkind = \"bridge\"\ntcp = \"127.0.0.1:5760\"\nrate_hz = 10\n"
        let twice = try parsePayload(sourced(sources: two))
        expectRefusal(refusal { try twice.bridgeSource() }, file: "payload.toml", key: "sources", reason: "several bridge sources (bridge, bridge2)")
    }

    @Test("the commented sources example in deploy/payload.example.toml loads when uncommented, with the PID on the bridge")
    func exampleSourcesBlock() throws {
        let text = try String(contentsOfFile: examplePayloadPath, encoding: .utf8)
        let begin = "# --- sources example: uncomment to use ---", end = "# --- end of the sources example ---"
        var lines: [String] = []
        var inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == begin { inBlock = true } else if line == end { inBlock = false }
            if inBlock && line != begin {
                lines.append(line == "#" ? "" : line.hasPrefix("# ") ? String(line.dropFirst(2)) : line)
            } else {
                lines.append(line)
            }
        }
        #expect(lines.count > 0 && text.contains(begin) && text.contains(end), "the example's sources block markers are missing")
        let uncommented = lines.joined(separator: "\n")
        let configuration = try PayloadConfiguration.parse(text: uncommented, path: examplePayloadPath)
        #expect(configuration.sources.map(\.kind) == [.bridge, .i2c, .i2c, .i2c])
        #expect(configuration.channelSources.allSatisfy { $0 == nil })
        // As the block says: the PID on bridge channel 0.
        let pidOnBridge = uncommented.replacingOccurrences(of: "id = \"pid\"\n", with: "id = \"pid\"\nsource = \"bridge\"\nsource_channel = 0\n")
        let withPID = try PayloadConfiguration.parse(text: pidOnBridge, path: examplePayloadPath)
        let pidIndex = try #require(withPID.pipeline.channels.firstIndex { $0.id == "pid" })
        #expect(withPID.bridgeChannels(of: "bridge") == [UInt16(pidIndex)])
    }
}

/// The Raspberry Pi payload (deploy/payload.pi.toml): parts named by address or `part`, ADC
/// inputs named by the channels.
@Suite("Payload parts: what each I2C or serial source is")
struct PartTests {
    static let piText: String = (try? String(contentsOfFile: repositoryRoot + "/deploy/payload.pi.toml", encoding: .utf8)) ?? ""

    func parse(_ text: String) throws(ConfigurationError) -> PayloadConfiguration {
        try PayloadConfiguration.parse(text: text, path: "payload.toml", baseDirectory: repositoryRoot + "/deploy")
    }

    func refusalReplacing(_ old: String, _ new: String) -> ConfigurationError? {
        #expect(Self.piText.contains(old), "'\(old)' is not in payload.pi.toml")
        return refusal { try parse(Self.piText.replacingOccurrences(of: old, with: new)) }
    }

    @Test("the shipped Pi payload names each part, from its address or its part key")
    func shipped() throws {
        let config = try parse(Self.piText)
        let parts = Dictionary(uniqueKeysWithValues: config.sources.map { ($0.id, $0.part) })
        #expect(parts == ["sgp41": .sgp41, "sht4x": .sht4x, "bme688": .bme688, "adc": .ads1115, "ze07": .winsenZE07])
        let inputs = config.channelSources.compactMap { $0?.source == "adc" ? $0?.sourceChannel : nil }
        #expect(inputs == [0, 1, 2])
    }

    @Test("an unknown part, a part at an address with no usual part, and a serial part on I2C are refused")
    func partRefusals() {
        expectRefusal(
            refusalReplacing("part = \"ads1115\"", "part = \"ads1116\""),
            file: "payload.toml", key: "sources.adc.part", reason: "unknown I2C part 'ads1116' (did you mean 'ads1115'?)")
        expectRefusal(
            refusalReplacing("address = 0x77", "address = 0x10"),
            file: "payload.toml", key: "sources.bme688.part", reason: "no part is usual at address 0x10")
        expectRefusal(
            refusalReplacing("part = \"ads1115\"", "part = \"winsen-ze07\""),
            file: "payload.toml", key: "sources.adc.part", reason: "unknown I2C part 'winsen-ze07'")
    }

    @Test("an ADC channel must name one free input, 0 to 3")
    func adcInputs() {
        expectRefusal(
            refusalReplacing("source = \"adc\"\nsource_channel = 2", "source = \"adc\"\nsource_channel = 4"),
            file: "payload.toml", key: "channels.h2s.source_channel", reason: "an input of source 'adc' is 0 to 3; got 4")
        expectRefusal(
            refusalReplacing("source = \"adc\"\nsource_channel = 2", "source = \"adc\"\nsource_channel = 1"),
            file: "payload.toml", key: "channels.h2s.source_channel", reason: "input 1 of source 'adc' is already channel 'nh3's")
        expectRefusal(
            refusalReplacing("source = \"adc\"\nsource_channel = 2", "source = \"adc\""),
            file: "payload.toml", key: "channels.h2s.source_channel", reason: "missing required key 'source_channel'")
    }
}

@Suite("The evidence sampler's configuration")
struct SamplerConfigurationTests {
    func refusalReplacing(_ old: String, _ new: String) -> ConfigurationError? {
        #expect(PartTests.piText.contains(old), "'\(old)' is not in payload.pi.toml")
        return refusal {
            try PayloadConfiguration.parse(
                text: PartTests.piText.replacingOccurrences(of: old, with: new), path: "payload.toml", baseDirectory: repositoryRoot + "/deploy")
        }
    }

    @Test("the Pi payload's sampler is read")
    func shipped() throws {
        let config = try PayloadConfiguration.parse(text: PartTests.piText, path: "payload.toml", baseDirectory: repositoryRoot + "/deploy")
        #expect(config.sampler == SamplerSettings(chip: "/dev/gpiochip0", lines: [17, 27, 22, 23], activeLow: false, duration: 60_000_000, confidence: 0.6))
    }

    @Test("bad sampler settings are refused by key")
    func refusals() {
        expectRefusal(refusalReplacing("lines = [17, 27, 22, 23]", "lines = [17, 17]"),
                      file: "payload.toml", key: "sampler.lines", reason: "line 17 is named twice")
        expectRefusal(refusalReplacing("lines = [17, 27, 22, 23]", "lines = []"),
                      file: "payload.toml", key: "sampler.lines", reason: "a sampler has 1 to 64 tubes; got 0")
        expectRefusal(refusalReplacing("lines = [17, 27, 22, 23]", "lines = [17, \"x\"]"),
                      file: "payload.toml", key: "sampler.lines", reason: "line 2 must be a GPIO line number")
        expectRefusal(refusalReplacing("duration_s = 60", "duration_s = 0"),
                      file: "payload.toml", key: "sampler.duration_s", reason: "must be more than 0")
        expectRefusal(refusalReplacing("confidence = 0.6", "confidence = 1.5"),
                      file: "payload.toml", key: "sampler.confidence", reason: "must be 0 to 1")
        expectRefusal(refusalReplacing("active_low = false", "activelow = false"),
                      file: "payload.toml", key: "sampler.activelow", reason: "did you mean 'active_low'?")
        expectRefusal(refusalReplacing("chip = \"/dev/gpiochip0\"", ""),
                      file: "payload.toml", key: "sampler.chip", reason: "missing required key 'chip'")
    }
}
