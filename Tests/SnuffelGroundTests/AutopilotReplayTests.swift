import Foundation
import SnuffelGeo
import SnuffelGround
import SnuffelPeerTesting
import SnuffelTestSupport
import SnuffelWire
import Testing

@Suite("snuffel replay --autopilot")
struct AutopilotReplayTests {
    /// Writes the simulated lab flight's logged poses (in UTC) into an autopilot log of
    /// `kind` whose boot clock is `bootUTC`, with the peer script.
    private func autopilotLog(_ lab: SimulatedLab, kind: String, bootUTC: UInt64, extra: [String] = []) throws -> String {
        let csv = scratchPath("poses.csv")
        var text = "utc_us,lat,lon,alt,vn,ve\n"
        for p in lab.placed.poses {
            text += "\(lab.placed.utc(p.time)),\(p.latitude),\(p.longitude),\(p.altitude),\(p.velocityNorth),\(p.velocityEast)\n"
        }
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        let path = scratchPath("autopilot.\(kind)")
        _ = try PeerScript.run(
            "autopilot_logs.py", [kind, path, csv, String(bootUTC)] + extra,
            install: "pip install pymavlink==2.4.50 pyulog==1.3.0", filePath: #filePath)
        return path
    }

    @Test(
        "an autopilot log of the flight's poses, by UTC, gives the same geotags and reports the offset",
        .disabled(if: PeerScript.skipped), arguments: ["tlog", "dataflash", "ulog"])
    func sameGeotags(kind: String) throws {
        let lab = try SimulatedLab.shared.get()
        // The autopilot booted 47.25 s before the sensor log began (UTC).
        let bootUTC = lab.placed.flight.utcAtStart - 47_250_000
        let path = try autopilotLog(lab, kind: kind, bootUTC: bootUTC, extra: kind == "tlog" ? ["2"] : [])
        let own = try Replay.run(path: lab.logPath)
        var options = ReplayOptions()
        options.autopilotPath = path
        let replayed = try Replay.run(path: lab.logPath, options: options)
        let log = try #require(replayed.autopilot)
        let alignment = try #require(log.alignment)
        #expect(abs(alignment.offset - Int64(bootUTC)) <= 1000, "offset \(alignment.offset), booted at \(bootUTC)")
        #expect(alignment.spread <= 1000)
        #expect(alignment.source.contains(["tlog": "SYSTEM_TIME", "dataflash": "GWk", "ulog": "time_utc_usec"][kind] ?? "?"))
        #expect(replayed.ownPositions == lab.placed.poses.count)
        #expect(replayed.track.points.count == lab.placed.poses.count)
        #expect(!replayed.wind.isEmpty)
        #expect(replayed.detections == own.detections)
        var worst = 0.0
        for (a, b) in zip(own.geotags, replayed.geotags) {
            guard case .success(let x) = a, case .success(let y) = b else {
                Issue.record("geotag lost: \(a) / \(b)")
                continue
            }
            let o = LocalTangentPlane(origin: x.position).offset(of: y.position)
            worst = max(worst, (o.east * o.east + o.north * o.north).squareRoot())
        }
        // GPS rounding: 10⁻⁷ degree is about 1 cm; boot milliseconds; cm/s velocities.
        #expect(worst < 0.1, "largest geotag difference \(worst) m")
        print("autopilot \(kind): \(alignment.source), \(alignment.messages) messages, offset \(alignment.offset - Int64(bootUTC)) µs from truth, spread \(alignment.spread) µs; largest geotag difference \(worst) m")
    }

    @Test("a sensor log without a clock record cannot be aligned, and a file without positions is refused by name")
    func refusals() throws {
        let empty = scratchPath("empty.tlog")
        try Data([0, 1, 2, 3, 0xFE, 9]).write(to: URL(fileURLWithPath: empty))
        #expect {
            try AutopilotLog.read(path: empty)
        } throws: { error in
            "\(error)".contains("empty.tlog") && "\(error)".contains("no positions")
        }
    }

    /// A straight track of 100 fixes at 5 Hz, a minute after the autopilot booted.
    private static let boot: UInt64 = 1_790_000_000_000_000
    private static let track: [(utc: UInt64, latitude: Double, longitude: Double)] = (0..<100).map { (i: Int) in
        let utc: UInt64 = boot + 60_000_000 + UInt64(i) * 200_000
        let latitude: Double = 51.45 + Double(i) * 1e-5
        let longitude: Double = 5.48 + Double(i) * 2e-5
        return (utc, latitude, longitude)
    }

    /// Writes the track as an autopilot log of `kind` with the peer script, and reads it.
    private func read(_ kind: String, _ extra: [String]) throws -> AutopilotLog {
        let csv = scratchPath("poses.csv")
        let text = "utc_us,lat,lon,alt,vn,ve\n" + Self.track.map { "\($0.utc),\($0.latitude),\($0.longitude),40,5,2" }.joined(separator: "\n")
        try text.write(toFile: csv, atomically: true, encoding: .utf8)
        let path = scratchPath("fallback.\(kind)")
        _ = try PeerScript.run(
            "autopilot_logs.py", [kind, path, csv, String(Self.boot)] + extra,
            install: "pip install pymavlink==2.4.50 pyulog==1.3.0", filePath: #filePath)
        return try AutopilotLog.read(path: path)
    }

    /// The largest distance, µs, between each fix's UTC time less `late` and the time
    /// written, and the largest position difference in degrees; nil unless every fix was
    /// read.
    private func worst(_ log: AutopilotLog, late: Int64 = 0) -> (time: Int64, degrees: Double)? {
        guard log.fixes.count == Self.track.count else { return nil }
        var time: Int64 = 0, degrees = 0.0
        for (fix, written) in zip(log.fixes, Self.track) {
            time = max(time, abs(Int64(fix.time) - late - Int64(written.utc)))
            degrees = max(degrees, abs(fix.position.latitude - written.latitude), abs(fix.position.longitude - written.longitude))
        }
        return (time, degrees)
    }

    @Test("a tlog without SYSTEM_TIME is aligned by the tlog's own timestamps, and says so", .disabled(if: PeerScript.skipped))
    func tlogWithoutSystemTime() throws {
        let log = try read("tlog", ["2", "--no-system-time"])
        let alignment = try #require(log.alignment)
        #expect(alignment.source.contains("tlog timestamps of GLOBAL_POSITION_INT"), "\(alignment.source)")
        #expect(log.positionSource == "GLOBAL_POSITION_INT")
        // The ground station received each message 20 ms after it was sent: the fixes are
        // that late, and no more (boot milliseconds: within 1 ms).
        let w = try #require(worst(log, late: 20_000), "\(log.fixes.count) fixes")
        #expect(w.time <= 1000 && w.degrees < 1e-7, "\(w)")
        #expect(log.attitudes.count == Self.track.count)
        #expect(log.reboots == 0)
    }

    @Test("a tlog with GPS_RAW_INT only (no GLOBAL_POSITION_INT): every fix, with or without SYSTEM_TIME",
          .disabled(if: PeerScript.skipped), arguments: [true, false])
    func tlogGPSRawOnly(systemTime: Bool) throws {
        let log = try read("tlog", ["2", "--gps-raw-only"] + (systemTime ? [] : ["--no-system-time"]))
        let alignment = try #require(log.alignment)
        #expect(log.positionSource == "GPS_RAW_INT")
        #expect(alignment.source.contains(systemTime ? "SYSTEM_TIME" : "tlog timestamps of GPS_RAW_INT"), "\(alignment.source)")
        let w = try #require(worst(log, late: systemTime ? 0 : 20_000), "\(log.fixes.count) fixes")
        #expect(w.time <= 1000 && w.degrees < 1e-7, "\(w)")
    }

    @Test("a DataFlash log with EKF2's NKF2 wind and no XKF2: the wind is read", .disabled(if: PeerScript.skipped))
    func dataFlashNKF2() throws {
        let log = try read("dataflash", ["--nkf2"])
        #expect(log.wind.count == Self.track.count)
        // The writer's NKF2: VWN 0, VWE 3 m/s (300 in centi-units).
        #expect(log.wind.allSatisfy { abs($0.north) < 1e-9 && abs($0.east - 3) < 1e-9 }, "\(log.wind.prefix(2))")
        #expect(zip(log.wind, Self.track).allSatisfy { abs(Int64($0.utc) - Int64($1.utc)) <= 1000 })
        #expect(worst(log) != nil)
    }

    @Test("an autopilot reboot mid-log (its boot clock goes back): each boot aligned on its own, every fix in place",
          .disabled(if: PeerScript.skipped), arguments: [("tlog", ["2", "--reboot-at=50"]), ("dataflash", ["--reboot-at=50"])])
    func rebootMidLog(kind: String, extra: [String]) throws {
        let log = try read(kind, extra)
        #expect(log.reboots == 1)
        #expect(log.alignments.count == 2)
        // The second boot began 3 s before fix 50.
        if log.alignments.count == 2 {
            #expect(abs(log.alignments[1].offset - Int64(Self.track[50].utc - 3_000_000)) <= 1000)
            #expect(log.alignments[0].spread <= 1000 && log.alignments[1].spread <= 1000)
        }
        let w = try #require(worst(log), "\(log.fixes.count) fixes")
        #expect(w.time <= 1000 && w.degrees < 1e-7, "\(w)")
        #expect(log.attitudes.count == Self.track.count)
        #expect(zip(log.attitudes, Self.track).allSatisfy { abs(Int64($0.utc) - Int64($1.utc)) <= 1000 })
    }

    @Test("a ground station's own SYSTEM_TIME in the tlog (another boot clock) is neither a reboot nor the alignment",
          .disabled(if: PeerScript.skipped))
    func groundStationSystemTime() throws {
        let log = try read("tlog", ["2", "--gcs-system-time"])
        #expect(log.reboots == 0)
        let alignment = try #require(log.alignment)
        #expect(alignment.source == "SYSTEM_TIME")
        #expect(abs(alignment.offset - Int64(Self.boot)) <= 1000 && alignment.spread <= 1000, "\(alignment)")
        let w = try #require(worst(log), "\(log.fixes.count) fixes")
        #expect(w.time <= 1000 && w.degrees < 1e-7, "\(w)")
    }
}
