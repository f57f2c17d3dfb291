import Foundation
import SnuffelCore
import TOMLKit

/// A payload configuration file, loaded and validated: what the payload is, the pipeline
/// configuration it defines, and the files it was read from.
///
/// The file is TOML (see `deploy/payload.example.toml` for a commented reference):
///
/// ```toml
/// signatures = "../calibration/signatures.toml"   # relative to this file
///
/// [payload]
/// name = "snuffel-mk2"                            # required
/// description = "..."                             # optional
///
/// [[channels]]                                    # one entry per channel, in sample-index order
/// id = "pid"                                      # required, unique
/// kind = "pid"                                    # required: sraw_voc, sraw_nox, mox_resistance,
///                                                 #   pid, electrochemical, temperature, humidity
/// sensor = "..."                                  # optional free text
/// unit = "ppb"                                    # optional free text
/// gas = "nh3"                                     # required for electrochemical, refused otherwise
/// rate_hz = 10                                    # required
/// delay_s = 1.1                                   # optional, default 0
/// rise_tau_s = 0.5                                # optional, default 0
/// decay_tau_s = 1.0                               # optional, default 0
/// valid_min = -1000                               # optional, default: no limit
/// valid_max = 50000                               # optional, default: no limit
/// calibration = { offset = 0, gain = 1, noise_floor = 2 }   # required: a table ...
/// # calibration = "../calibration/units/pid-0042.toml"      # ... or a calibration file
/// source = "bridge"                               # optional: a [[sources]] id
/// source_channel = 0                              # with a bridge source: its analog channel
///
/// [[sources]]                                     # optional: where channels are read from
/// id = "bridge"                                   #   (see ``PayloadSource``)
/// kind = "bridge"                                 # bridge, i2c or serial
/// device = "/dev/ttyACM0"
/// rate_hz = 10
///
/// [detection]                                     # optional; every key optional
/// hit_on_sigma = 5
/// ```
///
/// Every key is checked: unknown keys, wrong types, unknown kinds, duplicate ids, missing
/// calibrations and missing files are refused, and so are a channel naming an unknown
/// source, two channels on one bridge channel, a bridge channel out of range and an I2C
/// address outside 0x08–0x77; all with a ``ConfigurationError`` that names
/// the file, the key and the reason, and so is everything
/// ``PipelineConfiguration/validationError()`` finds.
public struct PayloadConfiguration: Sendable, Equatable {
    /// What the payload is, from the `[payload]` table.
    public struct Payload: Sendable, Equatable {
        public var name: String
        /// Free text; empty when not given.
        public var description: String

        public init(name: String, description: String = "") {
            self.name = name
            self.description = description
        }
    }

    /// A file the configuration was read from, with the exact text that was parsed (so that
    /// a recorder can store the configuration in force, byte for byte).
    public struct SourceFile: Sendable, Equatable {
        /// The path as given (the payload file) or as resolved from the file that named it.
        public var path: String
        public var text: String

        public init(path: String, text: String) {
            self.path = path
            self.text = text
        }
    }

    public var payload: Payload
    /// Channels, detection settings and signature library, validated.
    public var pipeline: PipelineConfiguration
    /// The payload configuration file.
    public var payloadFile: SourceFile
    /// The signature library file named by `signatures`.
    public var signaturesFile: SourceFile
    /// The per-unit calibration files, by channel id, for channels whose `calibration` is
    /// a file path (channels with an inline table have no entry).
    public var calibrationFiles: [String: SourceFile]
    /// Where channels are read from, from the `[[sources]]` tables; empty when there are none.
    public var sources: [PayloadSource]
    /// For each channel of ``pipeline`` (same index), the source its `source` key names,
    /// or nil when it names none.
    public var channelSources: [ChannelSource?]
    /// The evidence sampler, from `[sampler]`; nil when the payload has none.
    public var sampler: SamplerSettings?

    /// Creates a configuration from its parts; ``channelSources`` defaults to no source
    /// for every channel.
    public init(
        payload: Payload, pipeline: PipelineConfiguration, payloadFile: SourceFile, signaturesFile: SourceFile,
        calibrationFiles: [String: SourceFile] = [:], sources: [PayloadSource] = [], channelSources: [ChannelSource?]? = nil
    ) {
        self.payload = payload
        self.pipeline = pipeline
        self.payloadFile = payloadFile
        self.signaturesFile = signaturesFile
        self.calibrationFiles = calibrationFiles
        self.sources = sources
        self.channelSources = channelSources ?? Array(repeating: nil, count: pipeline.channels.count)
    }

    /// Loads and validates a payload configuration file, with the signature library and
    /// calibration files it names (paths relative to the payload file's directory).
    /// - Parameter path: The payload configuration file.
    /// - Throws: ``ConfigurationError`` naming the file, the key and the reason.
    public static func load(path: String) throws(ConfigurationError) -> PayloadConfiguration {
        let text = try ConfigurationFile.read(path: path)
        return try parse(text: text, path: path)
    }

    /// Parses and validates the text of a payload configuration file.
    ///
    /// The signature library and calibration files it names are read from disk, relative to
    /// `baseDirectory`.
    /// - Parameters:
    ///   - text: The TOML text.
    ///   - path: The file name used in error messages and kept in ``payloadFile``.
    ///   - baseDirectory: The directory relative paths are resolved against; by default the
    ///     directory of `path`.
    /// - Throws: ``ConfigurationError`` naming the file, the key and the reason.
    public static func parse(text: String, path: String, baseDirectory: String? = nil) throws(ConfigurationError) -> PayloadConfiguration {
        try parse(text: text, path: path, files: .disk(baseDirectory: baseDirectory ?? ConfigurationFile.directory(of: path)))
    }

    /// The texts of the files a payload configuration names, as a flight log holds them:
    /// replaying a log needs nothing from the disk.
    public struct EmbeddedFiles: Sendable, Equatable {
        /// The signature library's text.
        public var signatures: String
        /// The per-unit calibration files' texts, by channel id.
        public var calibrations: [String: String]

        public init(signatures: String, calibrations: [String: String] = [:]) {
            self.signatures = signatures
            self.calibrations = calibrations
        }
    }

    /// Parses and validates a payload configuration whose signature library and calibration
    /// files come with it (from a flight log) instead of from the disk.
    ///
    /// The paths written in the configuration are resolved as ``parse(text:path:baseDirectory:)``
    /// would, for the names in errors and in ``signaturesFile`` and ``calibrationFiles``, but
    /// never read.
    /// - Parameters:
    ///   - text: The payload configuration's TOML text.
    ///   - path: The name used in error messages (e.g. `flight.ulg:snuffel_payload_toml`).
    ///   - embedded: The texts of the files it names.
    /// - Throws: ``ConfigurationError`` naming the file, the key and the reason; a
    ///   calibration file that `embedded` lacks is refused as missing.
    public static func parse(text: String, path: String, embedded: EmbeddedFiles) throws(ConfigurationError) -> PayloadConfiguration {
        try parse(text: text, path: path, files: .embedded(embedded))
    }

    /// Where the files named by a configuration come from.
    enum FileSource {
        case disk(baseDirectory: String)
        case embedded(EmbeddedFiles)

        var baseDirectory: String {
            if case .disk(let base) = self { return base }
            return ""
        }

        /// The text of the signature library, or of the calibration file of a channel.
        func read(
            _ resolved: String, channel: String?, referencedBy: (file: String, key: String, written: String)
        ) throws(ConfigurationError) -> String {
            switch self {
            case .disk:
                return try ConfigurationFile.read(path: resolved, referencedBy: referencedBy)
            case .embedded(let files):
                guard let channel else { return files.signatures }
                guard let text = files.calibrations[channel] else {
                    throw ConfigurationError(
                        file: referencedBy.file, key: referencedBy.key,
                        reason: "calibration file '\(referencedBy.written)' is not in the log")
                }
                return text
            }
        }
    }

    static func parse(text: String, path: String, files: FileSource) throws(ConfigurationError) -> PayloadConfiguration {
        let base = files.baseDirectory
        let root = try TableReader(
            ConfigurationFile.parse(text, file: path), file: path, path: "",
            allowed: ["payload", "signatures", "sources", "channels", "detection", "sampler"])

        // [payload]
        guard let payloadTable = try root.table("payload", allowed: ["name", "description"]) else {
            throw root.missing("payload", "a [payload] table with at least a name")
        }
        let name = try payloadTable.requiredString("name", "the payload's name")
        if name.allSatisfy(\.isWhitespace) { throw payloadTable.error("name", "must not be empty") }
        let payload = Payload(name: name, description: try payloadTable.string("description") ?? "")

        // signatures = "..."
        let writtenSignatures = try root.requiredString(
            "signatures", "the signature library file, relative to this file, e.g. \"../calibration/signatures.toml\"")
        let signaturesPath = ConfigurationFile.resolve(writtenSignatures, against: base)
        let signaturesText = try files.read(
            signaturesPath, channel: nil, referencedBy: (path, root.key("signatures"), writtenSignatures))
        let library = try SignatureLibrary.parse(text: signaturesText, path: signaturesPath)

        // [[sources]]
        let sources = try SourceReading.readSources(root)

        // [[channels]]
        guard let channelTables = try root.arrayOfTables("channels") else {
            throw root.missing("channels", "the payload's channels, as [[channels]] tables")
        }
        var channels: [ChannelSpec] = []
        var calibrationFiles: [String: SourceFile] = [:]
        var channelSources: [ChannelSource?] = []
        var positions: [String: Int] = [:]
        for (index, table) in channelTables.enumerated() {
            let (channel, calibrationFile, source) = try readChannel(table, index: index, file: path, files: files, seen: positions)
            positions[channel.id] = index
            channels.append(channel)
            channelSources.append(source)
            if let calibrationFile { calibrationFiles[channel.id] = calibrationFile }
        }
        try SourceReading.check(channelSources, channels: channels.map { ($0.id, $0.rateHz) }, sources: sources, file: path)

        // [detection]
        var detection = DetectionSettings()
        if let table = try root.table("detection", allowed: DetectionSettings.configurationKeys) {
            detection = try DetectionSettings(reading: table)
        }

        let pipeline = PipelineConfiguration(channels: channels, detection: detection, library: library)
        if let (key, reason) = pipeline.validationError() {
            throw locate(key: key, reason: reason, payloadFile: path, signaturesFile: signaturesPath, calibrationFiles: calibrationFiles)
        }
        try checkElectrochemicalGases(channels, library: library, file: path, signaturesFile: signaturesPath)

        var configuration = PayloadConfiguration(
            payload: payload, pipeline: pipeline, payloadFile: SourceFile(path: path, text: text),
            signaturesFile: SourceFile(path: signaturesPath, text: signaturesText), calibrationFiles: calibrationFiles,
            sources: sources, channelSources: channelSources)
        configuration.sampler = try SamplerSettings.read(root)
        return configuration
    }

    static let channelKeys = [
        "id", "kind", "sensor", "unit", "gas", "rate_hz", "delay_s", "rise_tau_s", "decay_tau_s",
        "valid_min", "valid_max", "calibration", "source", "source_channel",
    ]

    private static func readChannel(
        _ table: TOMLTable, index: Int, file: String, files: FileSource, seen: [String: Int]
    ) throws(ConfigurationError) -> (ChannelSpec, SourceFile?, ChannelSource?) {
        // The id first, so that every later error (unknown keys included) can name the channel by it.
        let positional = try TableReader(table, file: file, path: "channels[\(index)]", allowed: table.keys)
        let id = try positional.requiredString("id", "a short unique id such as \"pid\" or \"nh3\"")
        guard Identifier.isValid(id) else {
            throw positional.error("id", "invalid channel id \(TableReader.quoted(id)): an id is \(Identifier.rule)")
        }
        if let other = seen[id] {
            throw positional.error("id", "duplicate channel id '\(id)' (channels[\(other)] has it too)")
        }
        let reader = try TableReader(table, file: file, path: "channels.\(id)", allowed: channelKeys)

        let kindName = try reader.requiredString("kind", "what the channel measures: " + kindList)
        guard let kind = ChannelKind(rawValue: kindName) else {
            var reason = "unknown channel kind \(TableReader.quoted(kindName))"
            if let suggestion = TableReader.closest(to: kindName, among: ChannelKind.allCases.map(\.rawValue)) {
                reason += " (did you mean '\(suggestion)'?)"
            }
            throw reader.error("kind", reason + "; expected one of " + kindList)
        }

        var gas: String?
        if kind == .electrochemical {
            let name = try reader.requiredString("gas", "the target gas of the electrochemical cell: nh3, h2s, co, no2, ...")
            guard GasName.isValid(name) else {
                throw reader.error("gas", "invalid gas name \(TableReader.quoted(name)): use the lower-case formula, e.g. nh3, h2s, co, no2")
            }
            gas = name
        } else if reader.contains("gas") {
            throw reader.error("gas", "only electrochemical channels name a target gas; this channel's kind is \(kind.rawValue)")
        }

        var channel = ChannelSpec(id: id, kind: kind, gas: gas)
        channel.sensor = try reader.string("sensor") ?? ""
        channel.unit = try reader.string("unit") ?? ""
        channel.rateHz = try reader.requiredDouble("rate_hz", "the nominal sample rate in Hz")
        if let v = try reader.double("delay_s") { channel.delaySeconds = v }
        if let v = try reader.double("rise_tau_s") { channel.riseTauSeconds = v }
        if let v = try reader.double("decay_tau_s") { channel.decayTauSeconds = v }
        if let v = try reader.double("valid_min") { channel.validMin = v }
        if let v = try reader.double("valid_max") { channel.validMax = v }

        // calibration: an inline table or the path of a per-unit calibration file.
        let calibrationKey = reader.key("calibration")
        guard let calibrationValue = reader.value("calibration") else {
            throw reader.missing(
                "calibration",
                "every channel states its calibration: a table such as { offset = 0, gain = 1 } (write calibration = {} to take all defaults) or the path of a calibration file")
        }
        var calibrationFile: SourceFile?
        if let written = calibrationValue.string {
            let resolved = ConfigurationFile.resolve(written, against: files.baseDirectory)
            let text = try files.read(resolved, channel: id, referencedBy: (file, calibrationKey, written))
            channel.calibration = try Calibration.parse(text: text, path: resolved)
            calibrationFile = SourceFile(path: resolved, text: text)
        } else if let table = try reader.table("calibration", allowed: Calibration.configurationKeys) {
            channel.calibration = try Calibration(reading: table)
        }
        return (channel, calibrationFile, try SourceReading.readChannelSource(reader))
    }

    private static var kindList: String { ChannelKind.allCases.map(\.rawValue).joined(separator: ", ") }

    /// Sends an error found by ``PipelineConfiguration/validationError()`` to the file that
    /// holds the offending value.
    static func locate(
        key: String, reason: String, payloadFile: String, signaturesFile: String, calibrationFiles: [String: SourceFile]
    ) -> ConfigurationError {
        if key.hasPrefix("signatures.") {
            return ConfigurationError(file: signaturesFile, key: String(key.dropFirst("signatures.".count)), reason: reason)
        }
        let parts = key.split(separator: ".", maxSplits: 3, omittingEmptySubsequences: false)
        if parts.count == 4, parts[0] == "channels", parts[2] == "calibration", let file = calibrationFiles[String(parts[1])] {
            return ConfigurationError(
                file: file.path, key: String(parts[3]),
                reason: reason + " (calibration of channel '\(parts[1])' in \(payloadFile))")
        }
        return ConfigurationError(file: payloadFile, key: key, reason: reason)
    }

    /// An electrochemical channel whose target gas no compound responds to would take part
    /// in detection but never in classification: almost always a typo in `gas`.
    private static func checkElectrochemicalGases(
        _ channels: [ChannelSpec], library: SignatureLibrary, file: String, signaturesFile: String
    ) throws(ConfigurationError) {
        let listed = Set(library.compounds.flatMap { $0.responses.keys })
        for channel in channels where channel.kind == .electrochemical && !listed.contains(channel.responseKey) {
            let known = listed.filter { $0.hasPrefix("ec_") }.sorted().map { String($0.dropFirst(3)) }
            var reason = "no compound in \(signaturesFile) lists a response on '\(channel.responseKey)'"
            if let suggestion = TableReader.closest(to: channel.gas ?? "", among: known) { reason += "; did you mean '\(suggestion)'?" }
            reason += " (gases with responses: \(known.joined(separator: ", ")))"
            throw ConfigurationError(file: file, key: "channels.\(channel.id).gas", reason: reason)
        }
    }
}
