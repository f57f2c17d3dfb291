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
}
