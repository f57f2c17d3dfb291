import SnuffelOnboard
import SnuffelWire
import Testing

/// Payloads laid out as in the MAVLink common and ardupilotmega message definitions
/// (fields sorted by size, largest first, as the wire order is).
enum AutopilotFrames {
    static func put<T: FixedWidthInteger>(_ value: T, _ bytes: inout [UInt8], at offset: Int) {
        for i in 0..<MemoryLayout<T>.size { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    static func frame(_ id: UInt32, _ payload: [UInt8], system: UInt8 = 1, component: UInt8 = 1) -> MAVLinkFrame {
        MAVLinkFrame(version: .v2, systemID: system, componentID: component, messageID: id, payload: payload)
    }

    /// HEARTBEAT: custom_mode u32, type, autopilot, base_mode, system_status, mavlink_version.
    static func heartbeat(autopilot: UInt8 = 3, armed: Bool = false, system: UInt8 = 1, component: UInt8 = 1) -> MAVLinkFrame {
        var p = [UInt8](repeating: 0, count: 9)
        p[4] = 2  // MAV_TYPE_QUADROTOR
        p[5] = autopilot
        p[6] = armed ? 0x80 | 0x01 : 0x01
        p[7] = 4
        p[8] = 3
        return frame(0, p, system: system, component: component)
    }

    /// SYSTEM_TIME: time_unix_usec u64, time_boot_ms u32.
    static func systemTime(unix: UInt64, bootMs: UInt32) -> MAVLinkFrame {
        var p = [UInt8](repeating: 0, count: 12)
        put(unix, &p, at: 0)
        put(bootMs, &p, at: 8)
        return frame(2, p)
    }

    /// GLOBAL_POSITION_INT: time_boot_ms, lat, lon, alt, relative_alt (i32), vx, vy, vz (i16), hdg.
    static func globalPosition(bootMs: UInt32, lat: Int32, lon: Int32, altMm: Int32, vx: Int16 = 0, vy: Int16 = 0) -> MAVLinkFrame {
        var p = [UInt8](repeating: 0, count: 28)
        put(bootMs, &p, at: 0)
        put(lat, &p, at: 4)
        put(lon, &p, at: 8)
        put(altMm, &p, at: 12)
        put(vx, &p, at: 20)
        put(vy, &p, at: 22)
        return frame(33, p)
    }

    /// GPS_RAW_INT: time_usec u64, lat, lon, alt (i32), eph, epv, vel, cog (u16), fix_type, satellites.
    static func gpsRaw(time: UInt64, lat: Int32, lon: Int32, altMm: Int32, velocityCm: UInt16, cogCdeg: UInt16, fix: UInt8 = 3) -> MAVLinkFrame {
        var p = [UInt8](repeating: 0, count: 52)
        put(time, &p, at: 0)
        put(lat, &p, at: 8)
        put(lon, &p, at: 12)
        put(altMm, &p, at: 16)
        put(velocityCm, &p, at: 24)
        put(cogCdeg, &p, at: 26)
        p[28] = fix
        return frame(24, p)
    }

    /// ATTITUDE: time_boot_ms, then roll, pitch, yaw and their rates as floats.
    static func attitude(bootMs: UInt32, roll: Float, pitch: Float, yaw: Float) -> MAVLinkFrame {
        var p = [UInt8](repeating: 0, count: 28)
        put(bootMs, &p, at: 0)
        put(roll.bitPattern, &p, at: 4)
        put(pitch.bitPattern, &p, at: 8)
        put(yaw.bitPattern, &p, at: 12)
        return frame(30, p)
    }

    /// WIND (ardupilotmega): direction (from, degrees), speed, speed_z.
    static func wind(direction: Float, speed: Float) -> MAVLinkFrame {
        var p = [UInt8](repeating: 0, count: 12)
        put(direction.bitPattern, &p, at: 0)
        put(speed.bitPattern, &p, at: 4)
        return frame(168, p)
    }

    /// WIND_COV (PX4): time_usec, wind_x, wind_y, wind_z, ...
    static func windCovariance(time: UInt64, north: Float, east: Float) -> MAVLinkFrame {
        var p = [UInt8](repeating: 0, count: 40)
        put(time, &p, at: 0)
        put(north.bitPattern, &p, at: 8)
        put(east.bitPattern, &p, at: 12)
        return frame(231, p)
    }
}

@Suite("Following the autopilot on the MAVLink link")
struct AutopilotTrackerTests {
    typealias F = AutopilotFrames

    func poses(_ events: [AutopilotTracker.Event]) -> [ULogPose] {
        events.compactMap { if case .pose(let p) = $0 { return p } else { return nil } }
    }

    @Test("the vehicle is the first autopilot heard; a ground station's and a companion's frames are left out")
    func vehicleSelection() {
        var tracker = AutopilotTracker()
        // A ground station (MAV_AUTOPILOT_INVALID) speaks first: not the vehicle.
        #expect(tracker.receive(F.heartbeat(autopilot: 8, system: 255, component: 190), at: 1_000).isEmpty)
        #expect(tracker.receive(F.globalPosition(bootMs: 10, lat: 1, lon: 1, altMm: 0), at: 1_100).isEmpty)
        let up = tracker.receive(F.heartbeat(autopilot: 12, system: 7), at: 2_000)
        #expect(up == [.linkUp(systemID: 7, autopilot: "PX4"), .armed(false)])
        #expect(tracker.vehicle == 7)
        // Another system's positions are ignored.
        #expect(tracker.receive(F.heartbeat(autopilot: 3, system: 9), at: 3_000).isEmpty)
        #expect(tracker.ignoredFrames == 3)
    }

    @Test("positions become poses on the local clock, with attitude and UTC from SYSTEM_TIME")
    func posesAndClock() throws {
        var tracker = AutopilotTracker()
        _ = tracker.receive(F.heartbeat(), at: 5_000_000)
        // Boot time 1000 ms arrives at local 5.000 s and again with 30 ms more delay: the
        // least-delayed arrival fixes the mapping (local = boot + 4.0 s).
        _ = tracker.receive(F.attitude(bootMs: 1000, roll: 0.1, pitch: -0.2, yaw: 1.5), at: 5_030_000)
        let clock = tracker.receive(F.systemTime(unix: 1_790_000_001_000_000, bootMs: 1000), at: 5_000_000)
        #expect(clock == [.clock(ULogClock(time: 5_000_000, utc: 1_790_000_001_000_000))])
        let events = tracker.receive(F.globalPosition(bootMs: 1500, lat: 514_500_123, lon: 54_800_456, altMm: 31_250, vx: 250, vy: -100), at: 5_520_000)
        let pose = try #require(poses(events).first)
        #expect(pose.time == 5_500_000)
        #expect(abs(pose.latitude - 51.4500123) < 1e-9 && abs(pose.longitude - 5.4800456) < 1e-9)
        #expect(pose.altitude == 31.25)
        #expect(pose.roll == 0.1 && pose.pitch == -0.2 && pose.yaw == 1.5)
        #expect(pose.velocityNorth == 2.5 && pose.velocityEast == -1)
        #expect(pose.gpsTime == 1_790_000_001_500_000)
        #expect(tracker.utc(6_000_000) == 1_790_000_002_000_000)
    }

    @Test("without GLOBAL_POSITION_INT, GPS_RAW_INT stands in (UTC or boot time stamps); with it, raw GPS is left out")
    func rawGPSFallback() throws {
        var tracker = AutopilotTracker()
        _ = tracker.receive(F.heartbeat(), at: 10_000_000)
        _ = tracker.receive(F.systemTime(unix: 1_790_000_000_000_000, bootMs: 2000), at: 10_000_000)
        // ArduPilot stamps GPS_RAW_INT with UTC: mapped back to local time.
        let fromUTC = try #require(poses(tracker.receive(
            F.gpsRaw(time: 1_790_000_000_400_000, lat: 100, lon: 200, altMm: 5000, velocityCm: 500, cogCdeg: 9000), at: 10_450_000)).first)
        #expect(fromUTC.time == 10_400_000)
        #expect(abs(fromUTC.velocityEast - 5) < 1e-4 && abs(fromUTC.velocityNorth) < 1e-4)
        // PX4 stamps it with time since boot (µs).
        let fromBoot = try #require(poses(tracker.receive(
            F.gpsRaw(time: 2_600_000, lat: 100, lon: 200, altMm: 5000, velocityCm: 0, cogCdeg: 0), at: 10_650_000)).first)
        #expect(fromBoot.time == 10_600_000)
        // No fix: nothing.
        #expect(poses(tracker.receive(F.gpsRaw(time: 2_700_000, lat: 1, lon: 2, altMm: 0, velocityCm: 0, cogCdeg: 0, fix: 1), at: 10_700_000)).isEmpty)
        // Once the fused position comes, raw GPS is left out.
        #expect(poses(tracker.receive(F.globalPosition(bootMs: 2800, lat: 1, lon: 2, altMm: 0), at: 10_800_000)).count == 1)
        #expect(poses(tracker.receive(F.gpsRaw(time: 2_900_000, lat: 1, lon: 2, altMm: 0, velocityCm: 0, cogCdeg: 0), at: 10_900_000)).isEmpty)
        #expect(tracker.fusedPoses == 1 && tracker.rawGPSPoses == 2)
    }

    @Test("ArduPilot's WIND (where it blows from) and PX4's WIND_COV (towards) give the same wind vector")
    func wind() throws {
        var tracker = AutopilotTracker()
        _ = tracker.receive(F.heartbeat(), at: 0)
        _ = tracker.receive(F.attitude(bootMs: 0, roll: 0, pitch: 0, yaw: 0), at: 1_000_000)
        // From the west (270°) at 4 m/s: it blows towards the east.
        guard case .wind(let a)? = tracker.receive(F.wind(direction: 270, speed: 4), at: 2_000_000).first else {
            Issue.record("no wind from WIND")
            return
        }
        #expect(a.time == 2_000_000 && abs(a.east - 4) < 1e-5 && abs(a.north) < 1e-5)
        guard case .wind(let b)? = tracker.receive(F.windCovariance(time: 2_500_000, north: 0, east: 4), at: 3_600_000).first else {
            Issue.record("no wind from WIND_COV")
            return
        }
        #expect(b.time == 3_500_000 && b.east == 4 && b.north == 0)
    }

    @Test("silence for the timeout loses the link once; the next frame restores it; arming is reported")
    func linkLostAndRestored() {
        var tracker = AutopilotTracker(timeout: 3_000_000)
        #expect(tracker.check(at: 100_000_000) == nil, "nothing heard yet: nothing to lose")
        _ = tracker.receive(F.heartbeat(), at: 1_000_000)
        #expect(tracker.check(at: 3_900_000) == nil)
        #expect(tracker.check(at: 4_000_000) == .linkLost(since: 1_000_000))
        #expect(tracker.check(at: 5_000_000) == nil, "lost is said once")
        #expect(tracker.isLost)
        let back = tracker.receive(F.heartbeat(armed: true), at: 9_000_000)
        #expect(back == [.linkRestored(after: 8_000_000), .armed(true)])
        #expect(!tracker.isLost)
        #expect(tracker.receive(F.heartbeat(armed: false), at: 9_100_000) == [.armed(false)])
    }

    @Test("an autopilot reboot (boot time going back) is reported and the clock mapped again")
    func reboot() throws {
        var tracker = AutopilotTracker()
        _ = tracker.receive(F.heartbeat(), at: 0)
        _ = tracker.receive(F.systemTime(unix: 1_790_000_000_000_000, bootMs: 600_000), at: 700_000_000)
        #expect(tracker.utcOffset != nil)
        let events = tracker.receive(F.globalPosition(bootMs: 2_000, lat: 10, lon: 10, altMm: 0), at: 730_000_000)
        #expect(events.first == .autopilotRebooted)
        #expect(tracker.utcOffset == nil)
        let pose = try #require(poses(events).first)
        #expect(pose.time == 730_000_000, "after the reboot boot time 2 s maps to the arrival, not to the old boot")
    }
}
