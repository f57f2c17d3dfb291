import Foundation
import SnuffelGeo
import SnuffelWire

/// The kinds of autopilot log `snuffel replay --autopilot` reads.
public enum AutopilotLogFormat: String, Sendable {
    /// A MAVLink telemetry log (ground station), MAVLink 1 or 2.
    case tlog
    /// An ArduPilot DataFlash log (`.bin`).
    case dataflash
    /// A PX4 ULog file.
    case ulog

    /// Tells the format by the first bytes: the ULog magic, a DataFlash FMT record, or
    /// else a telemetry log (whatever the file's extension).
    static func detect(_ head: [UInt8]) -> AutopilotLogFormat {
        if head.starts(with: Array("ULog".utf8)) { return .ulog }
        if head.count >= 3 && head[0] == DataFlash.head.0 && head[1] == DataFlash.head.1 && head[2] == DataFlash.formatType {
            return .dataflash
        }
        return .tlog
    }

    /// The name shown to people.
    public var title: String {
        switch self {
        case .tlog: return "MAVLink telemetry log"
        case .dataflash: return "ArduPilot DataFlash log"
        case .ulog: return "PX4 ULog"
        }
    }
}

/// One value in time: µs since the UNIX epoch (UTC).
public struct AutopilotAttitude: Sendable, Equatable {
    public var utc: UInt64
    /// Radians.
    public var roll: Double
    public var pitch: Double
    public var yaw: Double
}

/// A wind estimate of the autopilot: µs UTC, m/s towards north, east and down.
public struct AutopilotWind: Sendable, Equatable {
    public var utc: UInt64
    public var north: Double
    public var east: Double
    public var down: Double
}

/// How the autopilot's own clock (time since boot) was mapped to UTC.
public struct AutopilotClockAlignment: Sendable, Equatable {
    /// What gave UTC, e.g. `SYSTEM_TIME` or `GPS week and ms (GPS.GWk, GPS.GMS)`.
    public var source: String
    /// How many messages gave a pair of times.
    public var messages: Int
    /// Add this to the autopilot's time since boot (µs) to get UTC (µs since the epoch):
    /// the median over the messages.
    public var offset: Int64
    /// The largest minus the smallest offset of the messages, µs: the alignment's jitter.
    public var spread: Int64
}

/// What an autopilot log holds that replay needs, every time in UTC.
public struct AutopilotLog: Sendable {
    public var path: String
    public var format: AutopilotLogFormat
    /// The positions, in UTC µs (``TrackPoint/time`` is UTC here).
    public var fixes: [TrackPoint] = []
    /// The message the positions came from, e.g. `GLOBAL_POSITION_INT` or `POS`.
    public var positionSource = ""
    public var attitudes: [AutopilotAttitude] = []
    public var wind: [AutopilotWind] = []
    /// The mapping of the autopilot's clock to UTC (of its first boot in the log that
    /// could be aligned).
    public var alignment: AutopilotClockAlignment?
    /// The mapping of each boot that could be aligned, in the log's order: more than one
    /// when the autopilot rebooted during the log (its boot clock went back), each boot's
    /// times being mapped by its own.
    public var alignments: [AutopilotClockAlignment] = []
    /// How often the autopilot rebooted during the log (telemetry and DataFlash logs).
    public var reboots = 0
    /// Records or messages read.
    public var records = 0
    /// Bytes skipped (garbage, corrupted records, CRC failures), and the first problem
    /// with its byte offset.
    public var droppedBytes = 0
    public var firstProblem: String?
    /// Bytes of an incomplete record at the end.
    public var truncatedBytes = 0

    /// GPS time began 1980-01-06 00:00:00 UTC: 315,964,800 s after the UNIX epoch.
    public static let gpsEpoch: Int64 = 315_964_800
    /// GPS time runs ahead of UTC by the leap seconds since 1980: 18 s since
    /// 2017-01-01 (IERS Bulletin C 52 and later: no leap second since).
    public static let gpsLeapSeconds: Int64 = 18

    /// UTC µs of a GPS week and milliseconds into it.
    public static func utc(gpsWeek: Int64, milliseconds: Int64) -> Int64 {
        (gpsEpoch + gpsWeek * 604_800 - gpsLeapSeconds) * 1_000_000 + milliseconds * 1000
    }

    /// Reads an autopilot log, telling its format by its content.
    /// - Throws: ``ReplayError`` when the file cannot be read, holds no positions, or its
    ///   clock cannot be tied to UTC.
    public static func read(path: String) throws(ReplayError) -> AutopilotLog {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ReplayError(path: path, reason: FileManager.default.fileExists(atPath: path)
                ? "cannot be opened for reading (check its permissions)" : "no such file")
        }
        let head = Array((try? handle.read(upToCount: 16)) ?? Data())
        try? handle.close()
        var log: AutopilotLog
        switch AutopilotLogFormat.detect(head) {
        case .tlog: log = try readTLog(path: path)
        case .dataflash: log = try readDataFlash(path: path)
        case .ulog: log = try readULog(path: path)
        }
        if log.fixes.isEmpty {
            var reason = "the \(log.format.title) holds no positions"
            if log.records == 0 { reason += " (no \(log.format == .tlog ? "frames" : "records") could be read" }
            if log.records == 0, let problem = log.firstProblem { reason += "; first problem at \(problem))" }
            else if log.records == 0 { reason += ")" }
            throw ReplayError(path: path, reason: reason)
        }
        return log
    }

    /// The median of per-message offsets and their spread.
    static func align(_ offsets: [Int64], source: String) -> AutopilotClockAlignment? {
        guard !offsets.isEmpty else { return nil }
        let sorted = offsets.sorted()
        return AutopilotClockAlignment(
            source: source, messages: sorted.count, offset: sorted[sorted.count / 2],
            spread: sorted[sorted.count - 1] &- sorted[0])
    }

    /// Items timed on the boot clock, with their time set to UTC by the alignment of
    /// their boot (`alignment(i)` for item `i`); those of a boot without one, or before
    /// the epoch, are left out.
    static func placed<T>(
        _ items: [(boot: Int64, T)], _ alignment: (Int) -> AutopilotClockAlignment?, _ setTime: (inout T, UInt64) -> Void
    ) -> [T] {
        items.indices.compactMap { i in
            let (boot, item) = items[i]
            return alignment(i).flatMap { utc(boot, $0) }.map { time in
                var item = item
                setTime(&item, time)
                return item
            }
        }
    }

    /// Items timed on the boot clock of a single boot, with their time set to UTC.
    static func placed<T>(
        _ items: [(boot: Int64, T)], _ alignment: AutopilotClockAlignment, _ setTime: (inout T, UInt64) -> Void
    ) -> [T] {
        placed(items, { _ in alignment }, setTime)
    }

    /// Sets the log's alignments from those of each boot (nil where a boot had none).
    mutating func setAlignments(_ boots: [AutopilotClockAlignment?]) {
        alignments = boots.compactMap { $0 }
        alignment = alignments.first
        reboots = max(0, boots.count - 1)
    }

    /// A boot-clock time in UTC µs, or nil if it falls before the epoch.
    static func utc(_ boot: Int64, _ alignment: AutopilotClockAlignment) -> UInt64? {
        let t = boot &+ alignment.offset
        return t >= 0 ? UInt64(t) : nil
    }

    /// The boots of an autopilot in a log, told apart by its boot clock going back, and
    /// the clock offsets (UTC − boot time) gathered for each.
    struct Boots {
        /// How far a boot-clock time may lie before the latest one of the same boot (messages
        /// of several streams are not strictly in order): further back, the autopilot rebooted.
        static let tolerance: Int64 = 2_000_000
        private var latest: Int64?
        /// The boot of the latest time, counted from 0.
        private(set) var current = 0
        /// Per boot, per source, the offsets.
        private var offsets: [[String: [Int64]]] = [[:]]

        /// The boot (0, 1, ...) a boot-clock time belongs to; call in the log's order.
        mutating func boot(of time: Int64) -> Int {
            if let latest, time < latest &- Self.tolerance {
                current += 1
                offsets.append([:])
                self.latest = time
            } else {
                latest = max(latest ?? time, time)
            }
            return current
        }

        /// Adds an offset (UTC − boot time, µs) from a source to the current boot.
        mutating func add(_ offset: Int64, from source: String) { offsets[current][source, default: []].append(offset) }

        /// Each boot's alignment by the first of `sources` (key, name shown) that gave it
        /// offsets, or nil.
        func alignments(_ sources: [(key: String, title: String)]) -> [AutopilotClockAlignment?] {
            offsets.map { boot in
                for source in sources {
                    if let a = AutopilotLog.align(boot[source.key] ?? [], source: source.title) { return a }
                }
                return nil
            }
        }
    }

    // MARK: - Telemetry logs

    /// The vehicle of a telemetry log: the system and component of its first position.
    static func tlogVehicle(path: String) throws(ReplayError) -> (system: UInt8, component: UInt8)? {
        var reader: TLogReader
        do { reader = try TLogReader(contentsOfFile: path) } catch { throw ReplayError(path: path, reason: "\(error)") }
        while let record = reader.next() {
            switch MAVLinkMessage(frame: record.frame) {
            case .globalPosition, .gpsRaw: return (record.frame.systemID, record.frame.componentID)
            default: continue
            }
        }
        return nil
    }

    static func readTLog(path: String) throws(ReplayError) -> AutopilotLog {
        // The vehicle is found first, so that no other system or component (a ground
        // station's own SYSTEM_TIME, say) is read before it is known: its boot clock would
        // look like a reboot.
        let vehicle = try tlogVehicle(path: path)
        var reader: TLogReader
        do { reader = try TLogReader(contentsOfFile: path) } catch { throw ReplayError(path: path, reason: "\(error)") }
        var log = AutopilotLog(path: path, format: .tlog)
        // The boot of each item, in the items' order.
        var boots = Boots()
        var positions: [(boot: Int64, point: TrackPoint)] = [], positionBoots: [Int] = []
        var gps: [(time: UInt64, point: TrackPoint)] = [], gpsBoots: [Int] = []
        var attitudes: [(boot: Int64, AutopilotAttitude)] = [], attitudeBoots: [Int] = []
        var covariances: [(time: UInt64, AutopilotWind)] = [], covarianceBoots: [Int] = []
        /// Whether a time is UTC (µs since the epoch, after 2001) rather than since boot.
        func isUTC(_ time: UInt64) -> Bool { time > 1_000_000_000_000_000 }
        while let record = reader.next() {
            log.records += 1
            let frame = record.frame
            // Only the vehicle's messages: ground stations, other systems and the vehicle's
            // other components are left out.
            if let vehicle, frame.systemID != vehicle.system || frame.componentID != vehicle.component { continue }
            switch MAVLinkMessage(frame: frame) {
            case .systemTime(let t) where t.unixTime > 0:
                _ = boots.boot(of: Int64(t.bootTime) * 1000)
                boots.add(Int64(t.unixTime) - Int64(t.bootTime) * 1000, from: "SYSTEM_TIME")
            case .globalPosition(let p):
                let boot = Int64(p.bootTime) * 1000
                positionBoots.append(boots.boot(of: boot))
                boots.add(Int64(clamping: record.time) - boot, from: "GLOBAL_POSITION_INT")
                positions.append((boot, TrackPoint(
                    time: 0, position: GeoPosition(
                        latitude: Double(p.latitude) * 1e-7, longitude: Double(p.longitude) * 1e-7,
                        altitude: Double(p.altitude) / 1000),
                    velocityNorth: Double(p.vx) / 100, velocityEast: Double(p.vy) / 100)))
            case .gpsRaw(let g) where g.fixType >= 2:
                if isUTC(g.time) {
                    gpsBoots.append(boots.current)
                } else {
                    gpsBoots.append(boots.boot(of: Int64(clamping: g.time)))
                    boots.add(Int64(clamping: record.time) - Int64(clamping: g.time), from: "GPS_RAW_INT")
                }
                gps.append((g.time, TrackPoint(
                    time: 0, position: GeoPosition(
                        latitude: Double(g.latitude) * 1e-7, longitude: Double(g.longitude) * 1e-7,
                        altitude: Double(g.altitude) / 1000),
                    horizontalAccuracy: g.horizontalAccuracy > 0 ? Double(g.horizontalAccuracy) / 1000 : nil)))
            case .attitude(let a):
                attitudeBoots.append(boots.boot(of: Int64(a.bootTime) * 1000))
                attitudes.append((Int64(a.bootTime) * 1000, AutopilotAttitude(
                    utc: 0, roll: Double(a.roll), pitch: Double(a.pitch), yaw: Double(a.yaw))))
            case .wind(let w):
                // ArduPilot: the direction the wind comes from, the speed, and the NED
                // down component; the frame carries no time, so the log's own is used.
                let from = Double(w.direction) * .pi / 180
                log.wind.append(AutopilotWind(
                    utc: record.time, north: -Double(w.speed) * cos(from), east: -Double(w.speed) * sin(from),
                    down: Double(w.speedZ)))
            case .windCovariance(let w):
                covarianceBoots.append(isUTC(w.time) ? boots.current : boots.boot(of: Int64(clamping: w.time)))
                covariances.append((w.time, AutopilotWind(
                    utc: 0, north: Double(w.windX), east: Double(w.windY), down: Double(w.windZ))))
            default: break
            }
        }
        log.droppedBytes = reader.droppedByteCount
        log.truncatedBytes = reader.truncatedByteCount ?? 0
        log.firstProblem = reader.firstError.map(\.description)
        if let error = reader.readError { throw ReplayError(path: path, reason: "\(error)") }
        // Each boot by SYSTEM_TIME, or else by the tlog's own timestamps (the ground
        // station's clock, late by the link's delay).
        let alignments = boots.alignments([
            ("SYSTEM_TIME", "SYSTEM_TIME"),
            ("GLOBAL_POSITION_INT", "tlog timestamps of GLOBAL_POSITION_INT (the ground station's clock)"),
            ("GPS_RAW_INT", "tlog timestamps of GPS_RAW_INT (the ground station's clock)"),
        ])
        log.setAlignments(alignments)
        /// A time that is either UTC or since the boot given.
        func utc(either time: UInt64, boot: Int) -> UInt64? {
            if isUTC(time) { return time }
            return alignments[boot].flatMap { Self.utc(Int64(clamping: time), $0) }
        }
        if !positions.isEmpty {
            log.positionSource = "GLOBAL_POSITION_INT"
            log.fixes = placed(positions, { alignments[positionBoots[$0]] }) { $0.time = $1 }
        }
        log.attitudes = placed(attitudes, { alignments[attitudeBoots[$0]] }) { $0.utc = $1 }
        if log.fixes.isEmpty && !gps.isEmpty {
            log.positionSource = "GPS_RAW_INT"
            log.fixes = gps.indices.compactMap { i in
                utc(either: gps[i].time, boot: gpsBoots[i]).map { var p = gps[i].point; p.time = $0; return p }
            }
        }
        log.wind += covariances.indices.compactMap { i in
            utc(either: covariances[i].time, boot: covarianceBoots[i]).map { var w = covariances[i].1; w.utc = $0; return w }
        }
        if log.alignment == nil && !positions.isEmpty {
            throw ReplayError(path: path, reason: "the telemetry log's positions cannot be tied to UTC: no SYSTEM_TIME with a UTC time")
        }
        return log
    }

    // MARK: - DataFlash

    static func readDataFlash(path: String) throws(ReplayError) -> AutopilotLog {
        var reader: DataFlashReader
        do { reader = try DataFlashReader(contentsOfFile: path) } catch { throw ReplayError(path: path, reason: "\(error)") }
        var log = AutopilotLog(path: path, format: .dataflash)
        // The boot of each item, in the items' order.
        var boots = Boots()
        var pos: [(boot: Int64, TrackPoint)] = [], posBoots: [Int] = []
        var gps: [(boot: Int64, TrackPoint)] = [], gpsBoots: [Int] = []
        var attitudes: [(boot: Int64, AutopilotAttitude)] = [], attitudeBoots: [Int] = []
        var wind: [(boot: Int64, AutopilotWind)] = [], windBoots: [Int] = []
        var windSource: String?
        while let message = reader.next() {
            log.records += 1
            let boot: Int64
            if let us = message.value("TimeUS"), case .unsigned(let t) = us {
                boot = Int64(clamping: t)
            } else if let ms = message.number("TimeMS") {
                boot = Int64(ms) * 1000
            } else {
                continue
            }
            // Only the first instance of multi-instance messages (GPS I, XKF C).
            if let instance = message.number("I"), instance != 0 { continue }
            if let core = message.number("C"), core != 0 { continue }
            let bootIndex = boots.boot(of: boot)
            switch message.name {
            case "GPS":
                guard let status = message.number("Status"), status >= 3, let lat = message.number("Lat"),
                    let lon = message.number("Lng")
                else { continue }
                if let week = message.number("GWk"), let ms = message.number("GMS"), week > 0 {
                    boots.add(utc(gpsWeek: Int64(week), milliseconds: Int64(ms)) - boot, from: "GPS")
                }
                let speed = message.number("Spd") ?? 0
                let course = (message.number("GCrs") ?? 0) * .pi / 180
                gps.append((boot, TrackPoint(
                    time: 0, position: GeoPosition(latitude: lat, longitude: lon, altitude: message.number("Alt") ?? 0),
                    velocityNorth: speed * cos(course), velocityEast: speed * sin(course))))
                gpsBoots.append(bootIndex)
            case "POS":
                guard let lat = message.number("Lat"), let lon = message.number("Lng") else { continue }
                pos.append((boot, TrackPoint(
                    time: 0, position: GeoPosition(latitude: lat, longitude: lon, altitude: message.number("Alt") ?? 0))))
                posBoots.append(bootIndex)
            case "ATT":
                guard let roll = message.number("Roll"), let pitch = message.number("Pitch"), let yaw = message.number("Yaw")
                else { continue }
                let r = Double.pi / 180
                attitudes.append((boot, AutopilotAttitude(utc: 0, roll: roll * r, pitch: pitch * r, yaw: yaw * r)))
                attitudeBoots.append(bootIndex)
            case "XKF2", "NKF2":
                // EKF3 (XKF2) is preferred over EKF2 (NKF2) when a log has both.
                guard let north = message.number("VWN"), let east = message.number("VWE") else { continue }
                if windSource == nil || message.name == "XKF2" && windSource == "NKF2" {
                    if windSource == "NKF2" {
                        wind.removeAll()
                        windBoots.removeAll()
                    }
                    windSource = message.name
                }
                guard windSource == message.name else { continue }
                wind.append((boot, AutopilotWind(utc: 0, north: north, east: east, down: 0)))
                windBoots.append(bootIndex)
            default: break
            }
        }
        log.droppedBytes = reader.droppedByteCount
        log.truncatedBytes = reader.truncatedByteCount ?? 0
        log.firstProblem = reader.firstError.map(\.description)
        if let error = reader.readError { throw ReplayError(path: path, reason: "\(error)") }
        let alignments = boots.alignments([("GPS", "GPS week and ms (GPS.GWk, GPS.GMS; GPS-UTC \(gpsLeapSeconds) s)")])
        log.setAlignments(alignments)
        guard log.alignment != nil else {
            if pos.isEmpty && gps.isEmpty { return log }
            throw ReplayError(path: path, reason: "the DataFlash log's positions cannot be tied to UTC: no GPS record with a 3D fix and a GPS week")
        }
        let (chosen, chosenBoots) = pos.isEmpty ? (gps, gpsBoots) : (pos, posBoots)
        log.positionSource = pos.isEmpty ? "GPS" : "POS"
        log.fixes = placed(chosen, { alignments[chosenBoots[$0]] }) { $0.time = $1 }
        log.attitudes = placed(attitudes, { alignments[attitudeBoots[$0]] }) { $0.utc = $1 }
        log.wind = placed(wind, { alignments[windBoots[$0]] }) { $0.utc = $1 }
        return log
    }

    // MARK: - PX4 ULog

    /// The PX4 topics read (older and newer names of the GPS and wind topics).
    static let px4Topics: Set<String> = [
        "vehicle_global_position", "vehicle_gps_position", "sensor_gps", "vehicle_attitude", "wind", "wind_estimate",
    ]

    static func readULog(path: String) throws(ReplayError) -> AutopilotLog {
        var reader: ULogReader
        do { reader = try ULogReader(contentsOfFile: path) } catch { throw ReplayError(path: path, reason: "\(error)") }
        reader.foreignTopics = px4Topics
        var log = AutopilotLog(path: path, format: .ulog)
        var offsets: [Int64] = []
        var global: [(boot: Int64, TrackPoint)] = []
        var gps: [(boot: Int64, TrackPoint)] = []
        var attitudes: [(boot: Int64, AutopilotAttitude)] = []
        var wind: [(boot: Int64, AutopilotWind)] = []
        var gpsTopic = ""
        while true {
            let record: ULogRecord?
            do { record = try reader.next() } catch {
                log.firstProblem = "\(error)"
                break
            }
            guard let record else { break }
            log.records += 1
            guard case .topic(let data) = record, data.multiID == 0, let t = data.timestamp else { continue }
            let boot = Int64(clamping: t)
            switch data.name {
            case "vehicle_global_position":
                guard let lat = data.number("lat"), let lon = data.number("lon") else { continue }
                global.append((boot, TrackPoint(
                    time: 0, position: GeoPosition(latitude: lat, longitude: lon, altitude: data.number("alt") ?? 0),
                    velocityNorth: data.number("vel_n"), velocityEast: data.number("vel_e"),
                    horizontalAccuracy: data.number("eph"))))
            case "vehicle_gps_position", "sensor_gps":
                if (data.number("fix_type") ?? 3) < 3 { continue }
                if let utc = data.number("time_utc_usec"), utc > 0 {
                    offsets.append(Int64(utc) - boot)
                    gpsTopic = data.name
                }
                // Older PX4: lat/lon int32 × 10⁷ and alt in mm; newer: latitude_deg, ... in
                // degrees and metres.
                let lat = data.number("latitude_deg") ?? data.number("lat").map { $0 * 1e-7 }
                let lon = data.number("longitude_deg") ?? data.number("lon").map { $0 * 1e-7 }
                let alt = data.number("altitude_msl_m") ?? data.number("alt").map { $0 / 1000 } ?? 0
                guard let lat, let lon else { continue }
                gps.append((boot, TrackPoint(
                    time: 0, position: GeoPosition(latitude: lat, longitude: lon, altitude: alt),
                    velocityNorth: data.number("vel_n_m_s"), velocityEast: data.number("vel_e_m_s"),
                    horizontalAccuracy: data.number("eph"))))
            case "vehicle_attitude":
                guard let w = data.number("q[0]"), let x = data.number("q[1]"), let y = data.number("q[2]"),
                    let z = data.number("q[3]")
                else { continue }
                attitudes.append((boot, AutopilotAttitude(
                    utc: 0, roll: atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y)),
                    pitch: asin(max(-1, min(1, 2 * (w * y - z * x)))),
                    yaw: atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))))
            case "wind", "wind_estimate":
                guard let north = data.number("windspeed_north"), let east = data.number("windspeed_east") else { continue }
                wind.append((boot, AutopilotWind(utc: 0, north: north, east: east, down: 0)))
            default: break
            }
        }
        log.truncatedBytes = reader.truncatedByteCount ?? 0
        // PX4 starts a new ULog file at each boot: one boot.
        log.setAlignments([align(offsets, source: "\(gpsTopic.isEmpty ? "vehicle_gps_position" : gpsTopic).time_utc_usec")])
        guard let alignment = log.alignment else {
            if global.isEmpty && gps.isEmpty { return log }
            throw ReplayError(path: path, reason: "the ULog's positions cannot be tied to UTC: no GPS message with time_utc_usec")
        }
        let chosen = global.isEmpty ? gps : global
        log.positionSource = global.isEmpty ? (gpsTopic.isEmpty ? "vehicle_gps_position" : gpsTopic) : "vehicle_global_position"
        log.fixes = placed(chosen, alignment) { $0.time = $1 }
        log.attitudes = placed(attitudes, alignment) { $0.utc = $1 }
        log.wind = placed(wind, alignment) { $0.utc = $1 }
        return log
    }
}

extension Replay {
    /// Replaces the result's track and wind by the autopilot log's, moved onto the
    /// samples' clock through UTC.
    /// - Throws: ``ReplayError`` when the sensor data's clock has no UTC mapping.
    static func applyAutopilot(_ result: inout ReplayResult, path: String) throws(ReplayError) {
        let log = try AutopilotLog.read(path: path)
        guard let offset = result.utcOffset else {
            throw ReplayError(path: result.path, reason: """
                the sensor log has no clock record (monotonic → UTC), so it cannot be aligned with the \
                autopilot log by UTC
                """)
        }
        func local(_ utc: UInt64) -> UInt64? {
            let t = Int64(clamping: utc) &- offset
            return t >= 0 ? UInt64(t) : nil
        }
        result.ownPositions = result.track.points.count
        result.track = PoseTrack(points: log.fixes.compactMap { p in local(p.time).map { var p = p; p.time = $0; return p } })
        result.wind = log.wind.compactMap { w in
            local(w.utc).map { ULogWind(time: $0, north: Float(w.north), east: Float(w.east), down: Float(w.down)) }
        }
        result.autopilot = log
    }
}
