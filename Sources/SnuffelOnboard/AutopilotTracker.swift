import RealModule
import SnuffelWire

/// Follows the autopilot on the MAVLink link and turns what it says into what the flight
/// log records: poses (GLOBAL_POSITION_INT with ATTITUDE, or GPS_RAW_INT when no fused
/// position comes), wind (ArduPilot's WIND, PX4's WIND_COV), the mapping of the drone's
/// clock to UTC (SYSTEM_TIME), whether the vehicle is armed, and when the link is lost and
/// back.
///
/// The tracker is a state machine fed with frames and the local monotonic time they
/// arrived at; it does no IO, so the daemon, the tests and a replay of a capture all drive
/// it the same way.
///
/// Times: the autopilot stamps most messages with its time since boot. The tracker maps
/// that to the companion computer's clock by the smallest offset seen (arrival minus boot
/// time: the least-delayed message), and starts again when the autopilot reboots (its boot
/// time goes back).
public struct AutopilotTracker: Sendable {
    /// What the tracker learnt from a frame, or from the passing of time.
    public enum Event: Sendable, Equatable {
        /// The drone's pose at a time on the local clock.
        case pose(ULogPose)
        /// The autopilot's wind estimate.
        case wind(ULogWind)
        /// A reading of UTC for a local time (from SYSTEM_TIME).
        case clock(ULogClock)
        /// The first heartbeat of the vehicle: its system id and autopilot kind.
        case linkUp(systemID: UInt8, autopilot: String)
        /// Nothing heard from the vehicle for ``timeout``; `since` is the local time last heard.
        case linkLost(since: UInt64)
        /// Heard again after a loss that lasted `after` µs.
        case linkRestored(after: UInt64)
        /// The vehicle was armed (true) or disarmed (false).
        case armed(Bool)
        /// The autopilot restarted (its time since boot went back).
        case autopilotRebooted
    }

    /// MAV_AUTOPILOT values named in messages.
    static func autopilotName(_ value: UInt8) -> String {
        switch value {
        case 3: return "ArduPilot"
        case 12: return "PX4"
        case 0: return "generic autopilot"
        default: return "autopilot type \(value)"
        }
    }

    /// Silence after which the link counts as lost, µs.
    public var timeout: UInt64
    /// How long GLOBAL_POSITION_INT may be missing before GPS_RAW_INT stands in for it, µs.
    public var fusedPositionGrace: UInt64 = 1_500_000
    /// The vehicle followed: the first system whose heartbeat names a real autopilot.
    public private(set) var vehicle: UInt8?
    /// UTC minus the local clock, µs, once SYSTEM_TIME has given a UTC time.
    public private(set) var utcOffset: Int64?
    /// Whether the vehicle is armed, once a heartbeat said.
    public private(set) var isArmed: Bool?
    /// Whether the link is lost now.
    public private(set) var isLost = false
    /// Local time the vehicle was last heard from.
    public private(set) var lastHeard: UInt64?
    /// Counts of what was taken: poses from the fused position and from raw GPS, wind
    /// estimates, and frames of other systems or components left out.
    public private(set) var fusedPoses = 0, rawGPSPoses = 0, windEstimates = 0, ignoredFrames = 0

    private var bootOffset: Int64?
    private var lastBootMilliseconds: UInt32?
    private var attitude: (roll: Float, pitch: Float, yaw: Float) = (0, 0, 0)
    private var lastFusedPosition: UInt64?

    /// Creates a tracker.
    /// - Parameter timeout: Silence after which the link counts as lost, µs (default 3 s:
    ///   three missed 1 Hz heartbeats).
    public init(timeout: UInt64 = 3_000_000) {
        self.timeout = timeout
    }

    /// Takes one frame that arrived at local time `now` (µs).
    /// - Returns: What it tells, in order.
    public mutating func receive(_ frame: MAVLinkFrame, at now: UInt64) -> [Event] {
        let message = MAVLinkMessage(frame: frame)
        var events: [Event] = []
        if vehicle == nil {
            // The vehicle is the autopilot component (1) of the first system whose heartbeat
            // names an autopilot; ground stations and companions say MAV_AUTOPILOT_INVALID (8).
            guard case .heartbeat(let h) = message, h.autopilot != 8, frame.componentID == 1 else {
                ignoredFrames += 1
                return []
            }
            vehicle = frame.systemID
            events.append(.linkUp(systemID: frame.systemID, autopilot: Self.autopilotName(h.autopilot)))
        }
        guard frame.systemID == vehicle, frame.componentID == 1 else {
            ignoredFrames += 1
            return events
        }
        if isLost, let lastHeard {
            events.append(.linkRestored(after: now &- lastHeard))
            isLost = false
        }
        lastHeard = now
        switch message {
        case .heartbeat(let h):
            let armed = h.baseMode & 0x80 != 0  // MAV_MODE_FLAG_SAFETY_ARMED
            if isArmed != armed {
                isArmed = armed
                events.append(.armed(armed))
            }
        case .systemTime(let t):
            if noteBootTime(t.bootTime, at: now) { events.append(.autopilotRebooted) }
            // unix time 0: the autopilot has no GPS time yet.
            guard t.unixTime > 1_000_000_000_000_000, let local = local(bootMilliseconds: t.bootTime) else { break }
            utcOffset = Int64(clamping: t.unixTime) &- Int64(clamping: local)
            events.append(.clock(ULogClock(time: local, utc: t.unixTime)))
        case .attitude(let a):
            if noteBootTime(a.bootTime, at: now) { events.append(.autopilotRebooted) }
            attitude = (a.roll, a.pitch, a.yaw)
        case .globalPosition(let p):
            if noteBootTime(p.bootTime, at: now) { events.append(.autopilotRebooted) }
            guard p.latitude != 0 || p.longitude != 0, let local = local(bootMilliseconds: p.bootTime) else { break }
            lastFusedPosition = now
            fusedPoses += 1
            events.append(.pose(ULogPose(
                time: local, latitude: Double(p.latitude) * 1e-7, longitude: Double(p.longitude) * 1e-7,
                altitude: Float(p.altitude) / 1000, roll: attitude.roll, pitch: attitude.pitch, yaw: attitude.yaw,
                velocityNorth: Float(p.vx) / 100, velocityEast: Float(p.vy) / 100, velocityDown: Float(p.vz) / 100,
                gpsTime: utc(local) ?? 0)))
        case .gpsRaw(let g):
            // Only when the fused position is missing: GPS_RAW_INT is noisier and lags.
            guard g.fixType >= 2, lastFusedPosition.map({ now &- $0 > fusedPositionGrace }) ?? true else { break }
            let local = localTime(eitherUTCOrBoot: g.time, arrival: now)
            let course = Double(g.courseOverGround) / 100 * .pi / 180
            let speed = g.velocity == UInt16.max ? 0 : Double(g.velocity) / 100
            rawGPSPoses += 1
            events.append(.pose(ULogPose(
                time: local, latitude: Double(g.latitude) * 1e-7, longitude: Double(g.longitude) * 1e-7,
                altitude: Float(g.altitude) / 1000, roll: attitude.roll, pitch: attitude.pitch, yaw: attitude.yaw,
                velocityNorth: Float(speed * Double.cos(course)), velocityEast: Float(speed * Double.sin(course)),
                gpsTime: utc(local) ?? 0)))
        case .wind(let w):
            // ArduPilot: where the wind comes from (degrees), its speed, and the NED down
            // component; no time stamp, so the arrival time stands.
            guard w.direction.isFinite, w.speed.isFinite, w.speedZ.isFinite else { break }
            let from = Double(w.direction) * .pi / 180
            windEstimates += 1
            events.append(.wind(ULogWind(
                time: now, north: Float(-Double(w.speed) * Double.cos(from)), east: Float(-Double(w.speed) * Double.sin(from)),
                down: w.speedZ)))
        case .windCovariance(let w):
            guard w.windX.isFinite, w.windY.isFinite else { break }
            windEstimates += 1
            events.append(.wind(ULogWind(
                time: localTime(eitherUTCOrBoot: w.time, arrival: now), north: w.windX, east: w.windY,
                down: w.windZ.isFinite ? w.windZ : 0)))
        case .other, .commandLong:
            break
        }
        return events
    }

    /// Checks the link at local time `now`.
    /// - Returns: ``Event/linkLost(since:)`` the first time the vehicle has been silent for
    ///   ``timeout``, else nil.
    public mutating func check(at now: UInt64) -> Event? {
        guard !isLost, let lastHeard, now > lastHeard, now - lastHeard >= timeout else { return nil }
        isLost = true
        return .linkLost(since: lastHeard)
    }

    /// UTC for a local time, when SYSTEM_TIME has given the mapping.
    public func utc(_ local: UInt64) -> UInt64? {
        utcOffset.map { UInt64(clamping: Int64(clamping: local) &+ $0) }
    }

    /// Notes a boot time seen at `now`; keeps the least-delayed offset, and starts again on
    /// a reboot.
    /// - Returns: Whether the autopilot rebooted.
    private mutating func noteBootTime(_ milliseconds: UInt32, at now: UInt64) -> Bool {
        let candidate = Int64(clamping: now) &- Int64(milliseconds) &* 1000
        var rebooted = false
        if let last = lastBootMilliseconds, milliseconds &+ 1000 < last {
            rebooted = true
            bootOffset = nil
            utcOffset = nil
        }
        lastBootMilliseconds = milliseconds
        bootOffset = min(bootOffset ?? candidate, candidate)
        return rebooted
    }

    private func local(bootMilliseconds: UInt32) -> UInt64? {
        bootOffset.map { UInt64(clamping: Int64(bootMilliseconds) &* 1000 &+ $0) }
    }

    /// A message time that is UTC (µs since the epoch: ArduPilot's GPS_RAW_INT) or time
    /// since boot (µs: PX4), on the local clock; the arrival time when neither maps.
    private func localTime(eitherUTCOrBoot time: UInt64, arrival: UInt64) -> UInt64 {
        if time > 1_000_000_000_000_000 {
            return utcOffset.map { UInt64(clamping: Int64(clamping: time) &- $0) } ?? arrival
        }
        guard time > 0, let bootOffset else { return arrival }
        return UInt64(clamping: Int64(clamping: time) &+ bootOffset)
    }
}
