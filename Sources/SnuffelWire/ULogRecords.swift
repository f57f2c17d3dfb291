import SnuffelCore

/// The drone's position, attitude and velocity at one time, as logged in `snuffel_pose`.
public struct ULogPose: Sendable, Equatable {
    /// Time, µs on the log's clock.
    public var time: UInt64
    /// WGS84 latitude and longitude, degrees.
    public var latitude: Double
    public var longitude: Double
    /// Altitude above mean sea level, metres.
    public var altitude: Float
    /// Attitude, radians.
    public var roll: Float
    public var pitch: Float
    public var yaw: Float
    /// Velocity north, east and down, m/s.
    public var velocityNorth: Float
    public var velocityEast: Float
    public var velocityDown: Float
    /// GPS time of the fix, µs since the UNIX epoch (0 when unknown).
    public var gpsTime: UInt64

    public init(
        time: UInt64, latitude: Double, longitude: Double, altitude: Float,
        roll: Float = 0, pitch: Float = 0, yaw: Float = 0,
        velocityNorth: Float = 0, velocityEast: Float = 0, velocityDown: Float = 0, gpsTime: UInt64 = 0
    ) {
        self.time = time
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
        self.roll = roll
        self.pitch = pitch
        self.yaw = yaw
        self.velocityNorth = velocityNorth
        self.velocityEast = velocityEast
        self.velocityDown = velocityDown
        self.gpsTime = gpsTime
    }
}

/// The wind estimate at one time, m/s towards north, east and down (`snuffel_wind`).
public struct ULogWind: Sendable, Equatable {
    public var time: UInt64
    public var north: Float
    public var east: Float
    public var down: Float

    public init(time: UInt64, north: Float, east: Float, down: Float) {
        self.time = time
        self.north = north
        self.east = east
        self.down = down
    }
}

/// Air captured for the laboratory (`snuffel_tube`): which sorbent tube or canister, when
/// its valve or pump ran, where the drone was when it started, and why.
public struct ULogTube: Sendable, Equatable {
    /// Why a tube was run.
    public enum Reason: UInt8, Sendable {
        /// A detection of a lab or dump class passed the configured confidence.
        case detection = 0
        /// The operator asked, over MAVLink.
        case operatorRequest = 1
    }

    /// The tube's number, 1-based as printed on the sampler.
    public var tube: UInt8
    /// When the valve or pump was switched on and off, µs on the log's clock.
    public var start: UInt64
    public var end: UInt64
    /// Where the drone was at the start (NaN when no pose was known).
    public var latitude: Double
    public var longitude: Double
    public var altitude: Float
    /// The detection (its sequence number) the tube belongs to, if any.
    public var detection: Int?
    public var reason: Reason
    /// Whether it ran its full time (false: cut short, e.g. by the end of the flight).
    public var isComplete: Bool

    public init(
        tube: UInt8, start: UInt64, end: UInt64, latitude: Double, longitude: Double, altitude: Float,
        detection: Int?, reason: Reason, isComplete: Bool
    ) {
        self.tube = tube
        self.start = start
        self.end = end
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
        self.detection = detection
        self.reason = reason
        self.isComplete = isComplete
    }
}

/// A pair of readings of the monotonic clock and UTC, µs (`snuffel_clock`): the log's
/// times are monotonic; this maps them to the UNIX epoch.
public struct ULogClock: Sendable, Equatable {
    /// Monotonic time, µs (the log's clock).
    public var time: UInt64
    /// UTC at the same instant, µs since the UNIX epoch.
    public var utc: UInt64

    public init(time: UInt64, utc: UInt64) {
        self.time = time
        self.utc = utc
    }
}

/// A text message of the log ('L', or 'C' with a tag).
public struct ULogLogMessage: Sendable, Equatable {
    /// The level as in syslog: 0 emergency ... 3 error, 4 warning, 6 info, 7 debug.
    public var level: UInt8
    /// The tag of a tagged message ('C'), nil for a plain one ('L').
    public var tag: UInt16?
    public var time: UInt64
    public var text: String

    public init(level: UInt8, time: UInt64, text: String, tag: UInt16? = nil) {
        self.level = level
        self.tag = tag
        self.time = time
        self.text = text
    }

    public static let error: UInt8 = 3
    public static let warning: UInt8 = 4
    public static let info: UInt8 = 6
    public static let debug: UInt8 = 7
}

/// The value of an info message.
public enum ULogInfoValue: Sendable, Equatable {
    /// A `char[N]` value.
    case string(String)
    /// A signed integer type (`int8_t` ... `int64_t`).
    case integer(Int64)
    /// An unsigned integer type (`uint8_t` ... `uint64_t`) or `bool`.
    case unsignedInteger(UInt64)
    /// `float` or `double`.
    case floatingPoint(Double)
    /// Any other type, or a value whose size does not match its type: the raw bytes.
    case bytes([UInt8])

    /// The string, if the value is one.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value as a number, if it is one.
    public var number: Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .unsignedInteger(let v): return Double(v)
        case .floatingPoint(let v): return v
        case .string, .bytes: return nil
        }
    }
}

/// An info message ('I'), or a multi-info message ('M') with its continuations joined.
public struct ULogInfo: Sendable, Equatable {
    /// The key's name, e.g. `sys_name`.
    public var key: String
    /// The key's type as written, e.g. `char[7]` (for a joined multi-info value, the first
    /// part's type).
    public var type: String
    public var value: ULogInfoValue

    public init(key: String, type: String, value: ULogInfoValue) {
        self.key = key
        self.type = type
        self.value = value
    }
}

/// One thing read from a ULog file.
///
/// The cases that are rare in a log, or large, are `indirect` (boxed): a record is then
/// about the size of a sample, so that handing on the millions of samples of a flight
/// copies a few words instead of the largest case (a detection: over 100 bytes, which the
/// replay of a one-hour 16-channel log copied three times a sample).
public enum ULogRecord: Sendable, Equatable {
    /// An info message ('I').
    indirect case info(ULogInfo)
    /// A multi-info message ('M') joined with the continuations that follow it. Each
    /// message that does not continue the one before starts a new record, so a key may
    /// come several times (`snuffel_channel_ids`: once per channel, in index order).
    indirect case multiInfo(ULogInfo)
    /// A raw sample (`snuffel_sample`).
    case sample(Sample)
    indirect case pose(ULogPose)
    case wind(ULogWind)
    /// A detection (`snuffel_detection`) with its channels, compounds and class scores
    /// (`snuffel_detection_channel`, `_compound`, `_score`). Its real numbers were logged
    /// as `float`. `isComplete` is false when the log ended before all its parts.
    indirect case detection(Detection, isComplete: Bool)
    case clock(ULogClock)
    /// An evidence sample (`snuffel_tube`).
    indirect case tube(ULogTube)
    /// Pipeline counters (`snuffel_health`) at a time, µs.
    indirect case health(time: UInt64, PipelineHealth)
    /// A text message ('L' or 'C').
    indirect case logging(ULogLogMessage)
    /// The logger dropped messages for this many milliseconds ('O').
    case dropout(milliseconds: UInt16)
    /// Data of another logger's topic named in ``ULogReader/foreignTopics``.
    indirect case topic(ULogTopicData)
}
