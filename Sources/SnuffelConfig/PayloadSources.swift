import TOMLKit

/// Where some of a payload's channels are read from: the bridge microcontroller, a part on
/// an I2C bus, or a module on a serial port. Declared by a `[[sources]]` table:
///
/// ```toml
/// [[sources]]
/// id = "bridge"            # required, unique; channels name it with source = "bridge"
/// kind = "bridge"          # bridge, i2c or serial
/// device = "/dev/ttyACM0"  # bridge: its serial port, or tcp = "127.0.0.1:5760" (emulator)
/// baud = 115200            # bridge and serial; default 115200 (bridge), 9600 (serial)
/// rate_hz = 10             # bridge, required: the scan rate to request (divides 1000)
///
/// [[sources]]
/// id = "sgp41"
/// kind = "i2c"
/// device = "/dev/i2c-1"    # the bus
/// address = 0x59           # the 7-bit address, 0x08 to 0x77
/// part = "sgp41"           # optional: the part (default: the usual part at that address)
/// ```
///
/// A channel of an ADS1115 source names its input with `source_channel = 0` to `3`.
public struct PayloadSource: Sendable, Equatable {
    /// What kind of source it is.
    public enum Kind: String, Sendable, CaseIterable {
        /// The bridge microcontroller (firmware-bridge/PROTOCOL.md).
        case bridge
        /// A part on an I2C bus.
        case i2c
        /// A module on a serial port (e.g. a Winsen ZE03/ZE07 gas module).
        case serial
    }

    /// How the source is reached.
    public enum Link: Sendable, Equatable {
        /// A serial device and its speed.
        case serial(device: String, baud: Int)
        /// A TCP address (the bridge firmware in qemu).
        case tcp(host: String, port: UInt16)
        /// A part on an I2C bus.
        case i2c(bus: String, address: UInt8)
    }

    /// The source's id, unique in the payload.
    public var id: String
    /// Its kind.
    public var kind: Kind
    /// How it is reached.
    public var link: Link
    /// For a bridge: the scan rate to request, Hz; nil for other kinds.
    public var rateHz: Int?
    /// For an I2C or serial source: the part (``Part``), given or the usual one at its
    /// address; nil for a bridge.
    public var part: Part?

    /// The parts the daemon has drivers for.
    public enum Part: String, Sendable, CaseIterable {
        case sgp41, sht4x, bme688, bme680, ads1115, ens160
        /// Winsen ZE07 electrochemical module (UART, 9600 8N1).
        case winsenZE07 = "winsen-ze07"

        /// The usual part at an I2C address, if one is.
        public static func usual(at address: UInt8) -> Part? {
            switch address {
            case 0x59: return .sgp41
            case 0x44, 0x45, 0x46: return .sht4x
            case 0x76, 0x77: return .bme688
            case 0x48, 0x49, 0x4A, 0x4B: return .ads1115
            case 0x52, 0x53: return .ens160
            default: return nil
            }
        }

        /// Whether the part sits on an I2C bus (else on a serial port).
        public var isI2C: Bool { self != .winsenZE07 }

        /// The inputs a channel may name with `source_channel` (the ADC's), empty when the
        /// part has none.
        public var inputs: ClosedRange<Int>? { self == .ads1115 ? 0...3 : nil }
    }

    /// Creates a source.
    public init(id: String, kind: Kind, link: Link, rateHz: Int? = nil, part: Part? = nil) {
        self.id = id
        self.kind = kind
        self.link = link
        self.rateHz = rateHz
        self.part = part
    }

    /// The serial speeds a source may name (those the host's serial code can set).
    public static let baudRates = [9600, 19200, 38400, 57600, 115_200, 230_400, 460_800, 921_600]

    /// The scan rates the bridge accepts: 1 to 1000 Hz dividing 1000 (firmware-bridge/PROTOCOL.md, set rate).
    public static let bridgeRates = (1...1000).filter { 1000 % $0 == 0 }

    /// The number of analog channels a bridge can have (bits of its channel mask).
    public static let bridgeChannelCount = 16

    /// The lowest and highest 7-bit I2C addresses a part may have (0x00–0x07 and 0x78–0x7F
    /// are reserved by the I2C specification).
    public static let i2cAddresses: ClosedRange<Int> = 0x08...0x77

    static let commonKeys = ["id", "kind"]
    static let keys: [Kind: [String]] = [
        .bridge: commonKeys + ["device", "tcp", "baud", "rate_hz"],
        .i2c: commonKeys + ["device", "address", "part"],
        .serial: commonKeys + ["device", "baud", "part"],
    ]
}

/// Where one payload channel's samples come from: a `source = "<id>"` key in its
/// `[[channels]]` table, with `source_channel = N` (the bridge's analog channel) for a
/// bridge source.
public struct ChannelSource: Sendable, Equatable {
    /// The id of a ``PayloadSource``.
    public var source: String
    /// For a bridge source: the bridge channel (0–15) the payload channel is sampled on.
    public var sourceChannel: Int?

    /// Creates a channel source.
    public init(source: String, sourceChannel: Int? = nil) {
        self.source = source
        self.sourceChannel = sourceChannel
    }
}

extension PayloadConfiguration {
    /// The source with this id, if the payload declares one.
    public func source(_ id: String) -> PayloadSource? {
        sources.first { $0.id == id }
    }

    /// For each bridge channel of a bridge source, the index of the payload channel sampled
    /// on it (nil where none is), as long as the highest bridge channel used.
    /// - Parameter id: The bridge source's id.
    public func bridgeChannels(of id: String) -> [UInt16?] {
        var channels: [UInt16?] = []
        for (index, assignment) in channelSources.enumerated() {
            guard let assignment, assignment.source == id, let bridgeChannel = assignment.sourceChannel else { continue }
            if channels.count <= bridgeChannel { channels += Array(repeating: nil, count: bridgeChannel + 1 - channels.count) }
            channels[bridgeChannel] = UInt16(index)
        }
        return channels
    }

    /// The channel mask to enable on a bridge source: a bit for each bridge channel a
    /// payload channel is sampled on.
    /// - Parameter id: The bridge source's id.
    public func bridgeChannelMask(of id: String) -> UInt16 {
        var mask: UInt16 = 0
        for (bridgeChannel, channel) in bridgeChannels(of: id).enumerated() where channel != nil {
            mask |= 1 << UInt16(bridgeChannel)
        }
        return mask
    }

    /// The payload's bridge source: the one named, or the only one.
    /// - Parameter id: The source's id; nil for the payload's only bridge source.
    /// - Throws: ``ConfigurationError`` naming the payload file when there is no such
    ///   bridge source, or several and none was named.
    public func bridgeSource(_ id: String? = nil) throws(ConfigurationError) -> PayloadSource {
        let bridges = sources.filter { $0.kind == .bridge }
        if let id {
            guard let source = source(id) else {
                throw ConfigurationError(
                    file: payloadFile.path, key: "sources",
                    reason: "no source '\(id)' (sources: \(sources.isEmpty ? "none" : sources.map(\.id).joined(separator: ", ")))")
            }
            guard source.kind == .bridge else {
                throw ConfigurationError(file: payloadFile.path, key: "sources.\(id).kind", reason: "source '\(id)' is \(source.kind.rawValue), not a bridge")
            }
            return source
        }
        guard let only = bridges.first, bridges.count == 1 else {
            throw ConfigurationError(
                file: payloadFile.path, key: "sources",
                reason: bridges.isEmpty
                    ? "no [[sources]] entry of kind \"bridge\" is declared"
                    : "several bridge sources (\(bridges.map(\.id).joined(separator: ", "))): name the one to use")
        }
        return only
    }
}

/// Reading and cross-checking `[[sources]]` and the channels' `source` keys.
enum SourceReading {
    static var kindList: String { PayloadSource.Kind.allCases.map(\.rawValue).joined(separator: ", ") }

    /// Reads and checks the `[[sources]]` tables.
    static func readSources(_ root: TableReader) throws(ConfigurationError) -> [PayloadSource] {
        guard let tables = try root.arrayOfTables("sources") else { return [] }
        var sources: [PayloadSource] = []
        var positions: [String: Int] = [:]
        var links: [String: String] = [:]  // a device, TCP address or bus+address → the source id using it
        for (index, table) in tables.enumerated() {
            let positional = try TableReader(table, file: root.file, path: "sources[\(index)]", allowed: table.keys)
            let id = try positional.requiredString("id", "a short unique id such as \"bridge\" or \"sgp41\"; channels name it")
            guard Identifier.isValid(id) else {
                throw positional.error("id", "invalid source id \(TableReader.quoted(id)): an id is \(Identifier.rule)")
            }
            if let other = positions[id] { throw positional.error("id", "duplicate source id '\(id)' (sources[\(other)] has it too)") }
            positions[id] = index
            // The kind decides the keys, so it is read before they are checked.
            let kindName = try TableReader(table, file: root.file, path: "sources.\(id)", allowed: table.keys)
                .requiredString("kind", "where the channels come from: " + kindList)
            guard let kind = PayloadSource.Kind(rawValue: kindName) else {
                var reason = "unknown source kind \(TableReader.quoted(kindName))"
                if let suggestion = TableReader.closest(to: kindName, among: PayloadSource.Kind.allCases.map(\.rawValue)) {
                    reason += " (did you mean '\(suggestion)'?)"
                }
                throw ConfigurationError(file: root.file, key: "sources.\(id).kind", reason: reason + "; expected one of " + kindList)
            }
            let reader = try TableReader(table, file: root.file, path: "sources.\(id)", allowed: PayloadSource.keys[kind] ?? [])
            let source = try readSource(reader, id: id, kind: kind)
            let linkKey: String
            switch source.link {
            case .serial(let device, _): linkKey = device
            case .tcp(let host, let port): linkKey = "tcp \(host):\(port)"
            case .i2c(let bus, let address): linkKey = "\(bus) address \(hex(address))"
            }
            if let other = links[linkKey] {
                let key = source.kind == .i2c ? "address" : (reader.contains("tcp") ? "tcp" : "device")
                throw reader.error(key, "source '\(other)' is at \(linkKey) too: two sources cannot share it")
            }
            links[linkKey] = id
            sources.append(source)
        }
        return sources
    }

    private static func readSource(_ reader: TableReader, id: String, kind: PayloadSource.Kind) throws(ConfigurationError) -> PayloadSource {
        switch kind {
        case .bridge:
            let link: PayloadSource.Link
            switch (try reader.string("device"), try reader.string("tcp")) {
            case (let device?, nil):
                link = .serial(device: try nonEmpty(device, reader, "device"), baud: try baud(reader, default: 115_200))
            case (nil, let address?):
                if reader.contains("baud") { throw reader.error("baud", "a bridge reached over tcp has no baud rate; remove it or give a device") }
                guard let (host, port) = parseTCPAddress(address) else {
                    throw reader.error("tcp", "expected host:port with a port 1 to 65535, e.g. \"127.0.0.1:5760\"; got \(TableReader.quoted(address))")
                }
                link = .tcp(host: host, port: port)
            case (.some, .some):
                throw reader.error("tcp", "give the bridge's serial port (device) or its TCP address (tcp), not both")
            case (nil, nil):
                throw reader.missing("device", "the bridge's serial port, e.g. \"/dev/ttyACM0\", or tcp = \"host:port\" for the emulator")
            }
            guard let rate = try reader.int("rate_hz") else {
                throw reader.missing("rate_hz", "the scan rate to request from the bridge, in Hz")
            }
            guard PayloadSource.bridgeRates.contains(rate) else {
                throw reader.error(
                    "rate_hz", "the bridge accepts 1 to 1000 Hz dividing 1000 (\(PayloadSource.bridgeRates.map(String.init).joined(separator: ", "))); got \(rate)")
            }
            return PayloadSource(id: id, kind: kind, link: link, rateHz: rate)
        case .i2c:
            let bus = try nonEmpty(try reader.requiredString("device", "the I2C bus, e.g. \"/dev/i2c-1\""), reader, "device")
            guard let address = try reader.int("address") else {
                throw reader.missing("address", "the part's 7-bit I2C address, e.g. 0x59")
            }
            guard PayloadSource.i2cAddresses.contains(address) else {
                throw reader.error("address", "a 7-bit I2C address is 0x08 to 0x77 (the rest are reserved); got \(address < 0 ? "\(address)" : "0x" + String(address, radix: 16, uppercase: true))")
            }
            let part = try readPart(reader, i2c: true) ?? PayloadSource.Part.usual(at: UInt8(address))
            guard let part else {
                throw reader.missing("part", "no part is usual at address 0x\(String(address, radix: 16, uppercase: true)): name it, one of " + partList(i2c: true))
            }
            return PayloadSource(id: id, kind: kind, link: .i2c(bus: bus, address: UInt8(address)), part: part)
        case .serial:
            let device = try nonEmpty(try reader.requiredString("device", "the serial port, e.g. \"/dev/ttyUSB0\""), reader, "device")
            return PayloadSource(
                id: id, kind: kind, link: .serial(device: device, baud: try baud(reader, default: 9600)),
                part: try readPart(reader, i2c: false) ?? .winsenZE07)
        }
    }

    private static func partList(i2c: Bool) -> String {
        PayloadSource.Part.allCases.filter { $0.isI2C == i2c }.map(\.rawValue).joined(separator: ", ")
    }

    /// The `part` key, checked against the kind of source.
    private static func readPart(_ reader: TableReader, i2c: Bool) throws(ConfigurationError) -> PayloadSource.Part? {
        guard let name = try reader.string("part") else { return nil }
        guard let part = PayloadSource.Part(rawValue: name), part.isI2C == i2c else {
            var reason = "unknown \(i2c ? "I2C" : "serial") part \(TableReader.quoted(name))"
            if let suggestion = TableReader.closest(to: name, among: PayloadSource.Part.allCases.filter { $0.isI2C == i2c }.map(\.rawValue)) {
                reason += " (did you mean '\(suggestion)'?)"
            }
            throw reader.error("part", reason + "; expected one of " + partList(i2c: i2c))
        }
        return part
    }

    private static func nonEmpty(_ text: String, _ reader: TableReader, _ key: String) throws(ConfigurationError) -> String {
        if text.allSatisfy(\.isWhitespace) { throw reader.error(key, "must not be empty") }
        return text
    }

    private static func baud(_ reader: TableReader, default value: Int) throws(ConfigurationError) -> Int {
        guard let baud = try reader.int("baud") else { return value }
        guard PayloadSource.baudRates.contains(baud) else {
            throw reader.error("baud", "expected one of \(PayloadSource.baudRates.map(String.init).joined(separator: ", ")); got \(baud)")
        }
        return baud
    }

    /// `host:port`, with a port of 1 to 65535 and a host that is not empty.
    static func parseTCPAddress(_ text: String) -> (host: String, port: UInt16)? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0 else { return nil }
        let host = String(text[..<colon])
        return host.isEmpty || host.contains(where: \.isWhitespace) ? nil : (host, port)
    }

    /// A channel's `source` and `source_channel`, types checked; nil when it names none.
    static func readChannelSource(_ reader: TableReader) throws(ConfigurationError) -> ChannelSource? {
        let sourceChannel = try reader.int("source_channel")
        guard let source = try reader.string("source") else {
            if sourceChannel != nil { throw reader.error("source_channel", "source_channel needs a source: add source = \"<the bridge source's id>\"") }
            return nil
        }
        return ChannelSource(source: source, sourceChannel: sourceChannel)
    }

    /// Checks each channel's source against the declared sources: the source exists, a
    /// bridge channel is named once, in range, and sampled at the bridge's rate.
    static func check(
        _ assignments: [ChannelSource?], channels: [(id: String, rateHz: Double)], sources: [PayloadSource], file: String
    ) throws(ConfigurationError) {
        var taken: [String: String] = [:]  // "source/bridge channel" → the channel id sampled on it
        for (assignment, channel) in zip(assignments, channels) {
            guard let assignment else { continue }
            let key = "channels.\(channel.id)"
            guard let source = sources.first(where: { $0.id == assignment.source }) else {
                var reason = "unknown source \(TableReader.quoted(assignment.source))"
                if let suggestion = TableReader.closest(to: assignment.source, among: sources.map(\.id)) { reason += " (did you mean '\(suggestion)'?)" }
                reason += sources.isEmpty
                    ? "; declare it in a [[sources]] table"
                    : "; the payload's sources are \(sources.map(\.id).joined(separator: ", "))"
                throw ConfigurationError(file: file, key: key + ".source", reason: reason)
            }
            guard source.kind == .bridge else {
                if let inputs = source.part?.inputs {
                    // An ADC: the channel names its input.
                    guard let input = assignment.sourceChannel else {
                        throw ConfigurationError(
                            file: file, key: key + ".source_channel",
                            reason: "missing required key 'source_channel' (the \(source.part?.rawValue ?? "ADC")'s input, \(inputs.lowerBound) to \(inputs.upperBound), this channel is read on)")
                    }
                    guard inputs.contains(input) else {
                        throw ConfigurationError(
                            file: file, key: key + ".source_channel",
                            reason: "an input of source '\(source.id)' is \(inputs.lowerBound) to \(inputs.upperBound); got \(input)")
                    }
                    if let other = taken["\(source.id)/\(input)"] {
                        throw ConfigurationError(
                            file: file, key: key + ".source_channel",
                            reason: "input \(input) of source '\(source.id)' is already channel '\(other)'s")
                    }
                    taken["\(source.id)/\(input)"] = channel.id
                } else if assignment.sourceChannel != nil {
                    throw ConfigurationError(
                        file: file, key: key + ".source_channel",
                        reason: "only channels of a bridge or an ADC (ads1115) source take source_channel; source '\(source.id)' is \(source.part?.rawValue ?? source.kind.rawValue)")
                }
                continue
            }
            guard let bridgeChannel = assignment.sourceChannel else {
                throw ConfigurationError(
                    file: file, key: key + ".source_channel",
                    reason: "missing required key 'source_channel' (the bridge channel, 0 to \(PayloadSource.bridgeChannelCount - 1), this channel is sampled on)")
            }
            guard (0..<PayloadSource.bridgeChannelCount).contains(bridgeChannel) else {
                throw ConfigurationError(
                    file: file, key: key + ".source_channel",
                    reason: "a bridge channel is 0 to \(PayloadSource.bridgeChannelCount - 1); got \(bridgeChannel)")
            }
            if let other = taken["\(source.id)/\(bridgeChannel)"] {
                throw ConfigurationError(
                    file: file, key: key + ".source_channel",
                    reason: "bridge channel \(bridgeChannel) of source '\(source.id)' is already channel '\(other)'s: each bridge channel feeds one payload channel")
            }
            taken["\(source.id)/\(bridgeChannel)"] = channel.id
            if let rate = source.rateHz, channel.rateHz != Double(rate) {
                throw ConfigurationError(
                    file: file, key: key + ".rate_hz",
                    reason: "the bridge source '\(source.id)' samples at \(rate) Hz (its rate_hz), so a channel it feeds has rate_hz = \(rate); got \(channel.rateHz)")
            }
        }
    }

    private static func hex(_ value: UInt8) -> String { "0x" + String(value, radix: 16, uppercase: true) }
}
