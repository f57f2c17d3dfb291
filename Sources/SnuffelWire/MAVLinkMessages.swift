// The MAVLink messages Snuffel reads, decoded from a frame's payload. Ids, field order on
// the wire (fields sorted by type size, largest first, extensions last in declaration
// order), units and CRC_EXTRA follow github.com/mavlink/mavlink
// `message_definitions/v1.0/common.xml` (HEARTBEAT 0, SYSTEM_TIME 2, GPS_RAW_INT 24,
// ATTITUDE 30, GLOBAL_POSITION_INT 33, WIND_COV 231) and github.com/ArduPilot/mavlink
// `message_definitions/v1.0/ardupilotmega.xml` (WIND 168).

/// Little-endian field readers over a payload. Reads past the end give zeros, as a
/// truncated version 2 payload means.
public struct MAVLinkPayloadReader: Sendable {
    /// The payload.
    public let bytes: [UInt8]

    /// Creates a reader of a payload.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inlinable func byte(_ i: Int) -> UInt64 { i < bytes.count ? UInt64(bytes[i]) : 0 }

    /// The unsigned integer of `size` bytes at `offset`.
    @inlinable public func unsigned(_ offset: Int, size: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<size { value |= byte(offset + i) << (8 * UInt64(i)) }
        return value
    }

    /// A `uint8_t` field.
    public func u8(_ offset: Int) -> UInt8 { UInt8(truncatingIfNeeded: unsigned(offset, size: 1)) }
    /// A `uint16_t` field.
    public func u16(_ offset: Int) -> UInt16 { UInt16(truncatingIfNeeded: unsigned(offset, size: 2)) }
    /// A `int16_t` field.
    public func i16(_ offset: Int) -> Int16 { Int16(bitPattern: u16(offset)) }
    /// A `uint32_t` field.
    public func u32(_ offset: Int) -> UInt32 { UInt32(truncatingIfNeeded: unsigned(offset, size: 4)) }
    /// A `int32_t` field.
    public func i32(_ offset: Int) -> Int32 { Int32(bitPattern: u32(offset)) }
    /// A `uint64_t` field.
    public func u64(_ offset: Int) -> UInt64 { unsigned(offset, size: 8) }
    /// A `float` field.
    public func f32(_ offset: Int) -> Float { Float(bitPattern: u32(offset)) }
}

/// HEARTBEAT (0): the sender's type and state.
public struct MAVLinkHeartbeat: Sendable, Equatable {
    public var customMode: UInt32
    /// MAV_TYPE.
    public var type: UInt8
    /// MAV_AUTOPILOT (3 ArduPilot, 12 PX4).
    public var autopilot: UInt8
    public var baseMode: UInt8
    public var systemStatus: UInt8
    public var mavlinkVersion: UInt8
}

/// SYSTEM_TIME (2): the autopilot's UTC and boot time at the same instant.
public struct MAVLinkSystemTime: Sendable, Equatable {
    /// UTC, µs since the UNIX epoch; 0 when the autopilot does not know it yet.
    public var unixTime: UInt64
    /// Milliseconds since the autopilot booted.
    public var bootTime: UInt32
}

/// GLOBAL_POSITION_INT (33): the fused position.
public struct MAVLinkGlobalPosition: Sendable, Equatable {
    /// Milliseconds since boot.
    public var bootTime: UInt32
    /// Degrees × 10⁷.
    public var latitude: Int32
    public var longitude: Int32
    /// Altitude (MSL), mm.
    public var altitude: Int32
    /// Altitude above home, mm.
    public var relativeAltitude: Int32
    /// Velocity north, east, down, cm/s.
    public var vx: Int16
    public var vy: Int16
    public var vz: Int16
    /// Heading, centidegrees; 65535 when unknown.
    public var heading: UInt16
}

/// GPS_RAW_INT (24): the raw GPS fix.
public struct MAVLinkGPSRaw: Sendable, Equatable {
    /// µs since boot or since the UNIX epoch (the sender chooses).
    public var time: UInt64
    /// Degrees × 10⁷.
    public var latitude: Int32
    public var longitude: Int32
    /// Altitude (MSL), mm.
    public var altitude: Int32
    /// HDOP × 100 (65535 unknown).
    public var eph: UInt16
    public var epv: UInt16
    /// Ground speed, cm/s (65535 unknown).
    public var velocity: UInt16
    /// Course over ground, centidegrees (65535 unknown).
    public var courseOverGround: UInt16
    /// GPS_FIX_TYPE (0-1 no fix, 2 2D, 3 3D, ...).
    public var fixType: UInt8
    public var satellitesVisible: UInt8
    /// Extension: horizontal accuracy, mm (0 when absent).
    public var horizontalAccuracy: UInt32
}

/// ATTITUDE (30): roll, pitch, yaw in radians and their rates.
public struct MAVLinkAttitude: Sendable, Equatable {
    /// Milliseconds since boot.
    public var bootTime: UInt32
    public var roll: Float
    public var pitch: Float
    public var yaw: Float
    public var rollSpeed: Float
    public var pitchSpeed: Float
    public var yawSpeed: Float
}

/// WIND (168, ArduPilot): the wind estimate.
public struct MAVLinkWind: Sendable, Equatable {
    /// The direction the wind comes from, degrees.
    public var direction: Float
    /// Wind speed, m/s.
    public var speed: Float
    /// Vertical wind speed, m/s (ArduPilot sends the NED down component).
    public var speedZ: Float
}

/// WIND_COV (231): the wind estimate with its variances.
public struct MAVLinkWindCovariance: Sendable, Equatable {
    /// µs since boot or since the UNIX epoch.
    public var time: UInt64
    /// Wind towards north, east, down, m/s.
    public var windX: Float
    public var windY: Float
    public var windZ: Float
    public var varianceHorizontal: Float
    public var varianceVertical: Float
    public var altitude: Float
    public var horizontalAccuracy: Float
    public var verticalAccuracy: Float
}

/// COMMAND_LONG: a command with seven float parameters, for a system and component.
public struct MAVLinkCommandLong: Sendable, Equatable {
    public var parameters: [Float]
    /// MAV_CMD.
    public var command: UInt16
    public var targetSystem: UInt8
    public var targetComponent: UInt8
    public var confirmation: UInt8
}

/// A MAVLink message Snuffel reads, or another one by id.
public enum MAVLinkMessage: Sendable, Equatable {
    case heartbeat(MAVLinkHeartbeat)
    case systemTime(MAVLinkSystemTime)
    case globalPosition(MAVLinkGlobalPosition)
    case gpsRaw(MAVLinkGPSRaw)
    case attitude(MAVLinkAttitude)
    case wind(MAVLinkWind)
    case windCovariance(MAVLinkWindCovariance)
    case commandLong(MAVLinkCommandLong)
    /// Any other message: its id.
    case other(UInt32)

    /// The message ids decoded here.
    public enum ID {
        public static let heartbeat: UInt32 = 0
        public static let systemTime: UInt32 = 2
        public static let gpsRaw: UInt32 = 24
        public static let attitude: UInt32 = 30
        public static let globalPosition: UInt32 = 33
        public static let wind: UInt32 = 168
        public static let windCovariance: UInt32 = 231
        public static let commandLong: UInt32 = 76
    }

    /// Decodes a frame's payload. Fields beyond a short payload read as zero.
    public init(frame: MAVLinkFrame) {
        let p = MAVLinkPayloadReader(frame.payload)
        switch frame.messageID {
        case ID.heartbeat:
            self = .heartbeat(MAVLinkHeartbeat(
                customMode: p.u32(0), type: p.u8(4), autopilot: p.u8(5), baseMode: p.u8(6), systemStatus: p.u8(7),
                mavlinkVersion: p.u8(8)))
        case ID.systemTime:
            self = .systemTime(MAVLinkSystemTime(unixTime: p.u64(0), bootTime: p.u32(8)))
        case ID.globalPosition:
            self = .globalPosition(MAVLinkGlobalPosition(
                bootTime: p.u32(0), latitude: p.i32(4), longitude: p.i32(8), altitude: p.i32(12),
                relativeAltitude: p.i32(16), vx: p.i16(20), vy: p.i16(22), vz: p.i16(24), heading: p.u16(26)))
        case ID.gpsRaw:
            // time_usec, lat, lon, alt, eph, epv, vel, cog, fix_type, satellites_visible;
            // extensions: alt_ellipsoid (30), h_acc (34), ...
            self = .gpsRaw(MAVLinkGPSRaw(
                time: p.u64(0), latitude: p.i32(8), longitude: p.i32(12), altitude: p.i32(16), eph: p.u16(20),
                epv: p.u16(22), velocity: p.u16(24), courseOverGround: p.u16(26), fixType: p.u8(28),
                satellitesVisible: p.u8(29), horizontalAccuracy: p.u32(34)))
        case ID.attitude:
            self = .attitude(MAVLinkAttitude(
                bootTime: p.u32(0), roll: p.f32(4), pitch: p.f32(8), yaw: p.f32(12), rollSpeed: p.f32(16),
                pitchSpeed: p.f32(20), yawSpeed: p.f32(24)))
        case ID.wind:
            self = .wind(MAVLinkWind(direction: p.f32(0), speed: p.f32(4), speedZ: p.f32(8)))
        case ID.windCovariance:
            self = .windCovariance(MAVLinkWindCovariance(
                time: p.u64(0), windX: p.f32(8), windY: p.f32(12), windZ: p.f32(16), varianceHorizontal: p.f32(20),
                varianceVertical: p.f32(24), altitude: p.f32(28), horizontalAccuracy: p.f32(32),
                verticalAccuracy: p.f32(36)))
        case ID.commandLong:
            self = .commandLong(MAVLinkCommandLong(
                parameters: (0..<7).map { p.f32(4 * $0) }, command: p.u16(28), targetSystem: p.u8(30),
                targetComponent: p.u8(31), confirmation: p.u8(32)))
        default:
            self = .other(frame.messageID)
        }
    }
}
