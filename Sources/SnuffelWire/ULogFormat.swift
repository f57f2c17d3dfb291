/// The constants of the ULog format (PX4's "ULog File Format", version 1) and Snuffel's
/// topics.
///
/// A file is a 16-byte header (`ULog`, 0x01 0x12 0x35, the version byte, the start time
/// as a little-endian `uint64` of µs), then messages: a `uint16` payload size, a `uint8`
/// type and the payload. All numbers are little-endian and fields are packed.
enum ULog {
    static let magic: [UInt8] = [0x55, 0x4C, 0x6F, 0x67, 0x01, 0x12, 0x35]
    static let version: UInt8 = 1
    static let headerSize = 16
    static let messageHeaderSize = 3
    static let syncMagic: [UInt8] = [0x2F, 0x73, 0x13, 0x20, 0x25, 0x0C, 0xBB, 0x12]
    /// Flag bits: 8 compat bytes, 8 incompat bytes, 3 appended offsets.
    static let flagBitsSize = 40

    enum MessageType {
        static let flagBits = UInt8(ascii: "B")
        static let format = UInt8(ascii: "F")
        static let info = UInt8(ascii: "I")
        static let multiInfo = UInt8(ascii: "M")
        static let parameter = UInt8(ascii: "P")
        static let parameterDefault = UInt8(ascii: "Q")
        static let addLogged = UInt8(ascii: "A")
        static let removeLogged = UInt8(ascii: "R")
        static let data = UInt8(ascii: "D")
        static let logging = UInt8(ascii: "L")
        static let taggedLogging = UInt8(ascii: "C")
        static let sync = UInt8(ascii: "S")
        static let dropout = UInt8(ascii: "O")
    }

    /// The size in bytes of a basic field type, or nil for a nested type.
    static func basicSize(_ type: Substring) -> Int? {
        switch type {
        case "int8_t", "uint8_t", "bool", "char": return 1
        case "int16_t", "uint16_t": return 2
        case "int32_t", "uint32_t", "float": return 4
        case "int64_t", "uint64_t", "double": return 8
        default: return nil
        }
    }
}

/// A field of a topic as Snuffel writes it and requires it when reading.
struct ULogField: Sendable {
    var type: String
    var name: String
}

/// Snuffel's topics. The raw value is the message id the writer gives the topic.
///
/// The reader finds each field by name and type, so a file may hold more fields, in any
/// order, with padding.
enum SnuffelTopic: UInt16, CaseIterable, Sendable {
    case sample
    case pose
    case wind
    case detection
    case detectionChannel
    case detectionCompound
    case detectionScore
    case clock
    case health
    case tube

    var name: String {
        switch self {
        case .sample: return "snuffel_sample"
        case .pose: return "snuffel_pose"
        case .wind: return "snuffel_wind"
        case .detection: return "snuffel_detection"
        case .detectionChannel: return "snuffel_detection_channel"
        case .detectionCompound: return "snuffel_detection_compound"
        case .detectionScore: return "snuffel_detection_score"
        case .clock: return "snuffel_clock"
        case .health: return "snuffel_health"
        case .tube: return "snuffel_tube"
        }
    }

    init?(name: String) {
        guard let topic = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = topic
    }

    /// The fields in the order the writer packs them.
    var fields: [ULogField] {
        func f(_ type: String, _ name: String) -> ULogField { ULogField(type: type, name: name) }
        let timestamp = f("uint64_t", "timestamp")
        switch self {
        case .sample:
            return [timestamp, f("uint16_t", "channel"), f("uint16_t", "status"), f("double", "value")]
        case .pose:
            return [
                timestamp, f("double", "lat"), f("double", "lon"), f("float", "alt_m"),
                f("float", "roll"), f("float", "pitch"), f("float", "yaw"),
                f("float", "vn"), f("float", "ve"), f("float", "vd"), f("uint64_t", "gps_time_us"),
            ]
        case .wind:
            return [timestamp, f("float", "north"), f("float", "east"), f("float", "down")]
        case .detection:
            return [
                timestamp, f("uint64_t", "onset"), f("uint64_t", "peak"), f("uint64_t", "end"),
                f("uint32_t", "sequence"), f("int16_t", "class"),
                f("float", "confidence"), f("float", "threat_confidence"), f("float", "residual"),
                f("float", "snr"), f("uint16_t", "channel_count"), f("uint16_t", "compound_count"),
                f("uint16_t", "score_count"), f("bool", "alert"), f("bool", "confounder"),
            ]
        case .detectionChannel:
            return [
                timestamp, f("uint32_t", "sequence"), f("uint16_t", "channel"), f("bool", "hit"),
                f("float", "peak_excess"), f("float", "peak_sigma"), f("float", "area"),
                f("float", "coverage"), f("uint32_t", "rejected_in_window"),
            ]
        case .detectionCompound:
            return [
                timestamp, f("uint32_t", "sequence"), f("uint16_t", "compound"), f("float", "dose"),
                f("float", "mean_ppm"),
            ]
        case .detectionScore:
            return [timestamp, f("uint32_t", "sequence"), f("uint16_t", "class"), f("float", "misfit")]
        case .clock:
            return [timestamp, f("uint64_t", "utc_us")]
        case .health:
            return [timestamp] + ULogHealthField.names.map { f("uint64_t", $0) }
        case .tube:
            return [
                timestamp, f("uint64_t", "start"), f("uint64_t", "end"), f("double", "lat"), f("double", "lon"),
                f("float", "alt_m"), f("int32_t", "detection"), f("uint8_t", "tube"), f("uint8_t", "reason"),
                f("bool", "complete"),
            ]
        }
    }

    /// The payload of an 'F' message: `name:type field;type field;...`.
    var formatText: String {
        name + ":" + fields.map { $0.type + " " + $0.name + ";" }.joined()
    }

    /// The packed size of the fields.
    var size: Int {
        fields.reduce(0) { $0 + (ULog.basicSize($1.type[...]) ?? 0) }
    }
}

/// The counters of `snuffel_health`, in order.
enum ULogHealthField {
    static let names = [
        "accepted", "unknown_channel", "non_finite", "out_of_range", "out_of_order", "duplicate",
        "gaps", "unconfirmed_hits", "truncated_events", "humidity_artefacts", "history_overruns",
    ]
}

/// The info and multi-info keys a Snuffel flight log holds, so that a log alone is enough
/// to replay it.
public enum SnuffelLogKey {
    /// `char[N]`: always `Snuffel`.
    public static let systemName = "sys_name"
    /// Multi-info, once per channel in index order: the channel ids.
    public static let channelIDs = "snuffel_channel_ids"
    /// Multi-info: the payload configuration file's text.
    public static let payloadTOML = "snuffel_payload_toml"
    /// Multi-info: the signature library file's text.
    public static let signaturesTOML = "snuffel_signatures_toml"
    /// Multi-info, followed by a channel id: that channel's per-unit calibration file.
    public static let calibrationTOMLPrefix = "snuffel_calibration_toml_"
    /// Info: the payload configuration's path when the log was written.
    public static let payloadPath = "snuffel_payload_path"
    /// Info: what wrote the log (`snuffeld`, `snuffel simulate`, ...).
    public static let writer = "snuffel_writer"
    /// Info: the simulated scenario's name, for logs made by `snuffel simulate`.
    public static let scenario = "snuffel_scenario"
}
