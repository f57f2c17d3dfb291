import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGeo
import SnuffelSim
import SnuffelWire

/// A simulated flight placed on the map: the simulator works in metres east, north and up
/// of the scenario's site; logs and truth files hold WGS84 positions.
public struct PlacedFlight: Sendable {
    public var scenario: Scenario
    public var flight: SimulatedFlight
    public var plane: LocalTangentPlane

    public init(scenario: Scenario, flight: SimulatedFlight) {
        self.scenario = scenario
        self.flight = flight
        plane = LocalTangentPlane(origin: GeoPosition(
            latitude: scenario.site.latitude, longitude: scenario.site.longitude, altitude: scenario.site.groundAltitude))
    }

    /// A simulator position (ENU metres from the site, up from the ground) on the map.
    public func position(_ p: ENU) -> GeoPosition {
        plane.position(east: p.east, north: p.north, up: p.up)
    }

    /// A time of the drone's clock in UTC µs.
    public func utc(_ time: UInt64) -> UInt64 { flight.utc(time) }

    /// The logged (GPS) poses as ULog poses.
    public var poses: [ULogPose] {
        flight.poses.map { p in
            let g = position(p.position)
            return ULogPose(
                time: p.time, latitude: g.latitude, longitude: g.longitude, altitude: Float(g.altitude),
                roll: Float(p.roll), pitch: Float(p.pitch), yaw: Float(p.yaw),
                velocityNorth: Float(p.velocity.north), velocityEast: Float(p.velocity.east),
                velocityDown: Float(-p.velocity.up), gpsTime: utc(p.time))
        }
    }

    /// The drone's true track (no GPS noise), on the drone's clock.
    public var trueTrack: PoseTrack {
        PoseTrack(points: flight.poses.map { TrackPoint(time: $0.time, position: position($0.truePosition)) })
    }
}

/// What `snuffel simulate` wrote.
public struct SimulationOutput: Sendable {
    /// The detections the onboard pipeline made during the flight (recorded in the log).
    public var detections: [Detection]
    public var files: [String]
}

/// Writes a simulated flight as the drone would have recorded it.
public enum SimulatedFlightLog {
    /// Runs the onboard pipeline over the flight as the daemon does (sample by sample,
    /// taking each detection as it is made) and writes everything into a flight log: the
    /// configuration in force, the clock mapping, samples, poses, wind, detections and
    /// health, in time order.
    ///
    /// - Parameters:
    ///   - placed: The simulated flight.
    ///   - configuration: The payload configuration the simulated drone flew with.
    ///   - path: The `.ulg` file to write.
    ///   - sealer: Seals every written block (a signed log, `SnuffelSigning`); nil writes
    ///     a plain log.
    ///   - progress: Called with the fraction written.
    /// - Returns: The detections made in flight.
    public static func writeLog(
        _ placed: PlacedFlight, configuration: PayloadConfiguration, path: String, sealer: (any ULogBlockSealer)? = nil,
        progress: ((Double) -> Void)? = nil
    ) throws -> [Detection] {
        let flight = placed.flight
        let pipeline = try Pipeline(configuration: configuration.pipeline)
        let writer = try ULogFileWriter(
            path: path, startTime: flight.monotonicStart, channelIDs: configuration.pipeline.channels.map(\.id),
            payloadTOML: configuration.payloadFile.text, signaturesTOML: configuration.signaturesFile.text,
            calibrationTOML: configuration.calibrationFiles.sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) },
            info: [
                (SnuffelLogKey.writer, "snuffel simulate"), (SnuffelLogKey.scenario, placed.scenario.name),
                (SnuffelLogKey.payloadPath, configuration.payloadFile.path),
            ], sealer: sealer)
        try writer.append(ULogClock(time: flight.monotonicStart, utc: flight.utcAtStart))
        let poses = placed.poses
        var detections: [Detection] = []
        var p = 0, w = 0
        var nextHealth = flight.monotonicStart + 60_000_000
        for (i, s) in flight.samples.enumerated() {
            while p < poses.count && poses[p].time <= s.time {
                try writer.append(poses[p])
                p += 1
            }
            while w < flight.wind.count && flight.wind[w].time <= s.time {
                let x = flight.wind[w]
                try writer.append(ULogWind(time: x.time, north: Float(x.north), east: Float(x.east), down: Float(x.down)))
                w += 1
            }
            if s.time >= nextHealth {
                try writer.append(health: pipeline.health, time: s.time)
                try writer.append(ULogClock(time: s.time, utc: placed.utc(s.time)))
                nextHealth += 60_000_000
            }
            try writer.append(s)
            pipeline.process(s)
            while let d = pipeline.popDetection() {
                try writer.append(d)
                detections.append(d)
            }
            if i % 50_000 == 0 { progress?(Double(i) / Double(max(1, flight.samples.count))) }
        }
        for pose in poses[p...] { try writer.append(pose) }
        pipeline.finish()
        while let d = pipeline.popDetection() {
            try writer.append(d)
            detections.append(d)
        }
        try writer.append(health: pipeline.health, time: flight.samples.last?.time ?? flight.monotonicStart)
        try writer.close()
        progress?(1)
        return detections
    }

    /// Writes the flight as CSV in the import format: UTC times, the channels, and the
    /// logged (GPS) position on the rows that have one.
    public static func writeCSV(_ placed: PlacedFlight, channels: [ChannelSpec], path: String) throws {
        let writer = CSVSampleWriter(channels: channels, hasPosition: true)
        var text = "# Simulated flight, scenario \(placed.scenario.name) (snuffel simulate); times are UTC µs\n" + writer.header
        let samples = placed.flight.samples
        let poses = placed.flight.poses
        var i = 0, p = 0
        while i < samples.count || p < poses.count {
            let t = min(i < samples.count ? samples[i].time : .max, p < poses.count ? poses[p].time : .max)
            var j = i
            while j < samples.count && samples[j].time == t { j += 1 }
            var position: (latitude: Double, longitude: Double, altitude: Double)?
            if p < poses.count && poses[p].time == t {
                let g = placed.position(poses[p].position)
                position = (g.latitude, g.longitude, g.altitude)
                p += 1
            }
            text += writer.row(time: placed.utc(t), samples: samples[i..<j], position: position)
            i = j
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The ground truth as TOML: the scenario, each source with its class and position, and
    /// each encounter (a span when a source's plume reached the inlet) with the drone's
    /// true position when the air of its peak entered the inlet. Times are UTC µs.
    public static func truthTOML(_ placed: PlacedFlight) -> String {
        let truth = placed.flight.truth
        var out = """
            # Ground truth of a simulated flight, written by `snuffel simulate`.
            # Times are UTC µs since the UNIX epoch; positions WGS84 degrees and metres above mean sea level.
            # An encounter is a span when a source's plume reached the inlet above \(placed.scenario.truthThresholdPPM) ppm.
            scenario = \(quoted(placed.scenario.name))
            description = \(quoted(placed.scenario.description))
            seed = \(placed.scenario.seed)
            start_utc_us = \(placed.flight.utcAtStart)

            """
        for s in truth.sources {
            let g = placed.position(s.position)
            out += """

                [[sources]]
                id = \(quoted(s.id))
                class = \(quoted(s.signatureClass ?? "mixture"))
                confounder = \(s.isConfounder)
                lat = \(CSVSampleWriter.decimal(g.latitude, places: 7))
                lon = \(CSVSampleWriter.decimal(g.longitude, places: 7))
                alt_m = \(CSVSampleWriter.decimal(g.altitude, places: 2))
                vapour_l_per_s = \(s.vapourLitresPerSecond)

                """
        }
        for e in truth.encounters {
            let g = placed.position(e.truePositionAtPeak)
            out += """

                [[encounters]]
                source = \(quoted(e.sourceID))
                start_utc_us = \(placed.utc(e.start))
                peak_utc_us = \(placed.utc(e.peakTime))
                end_utc_us = \(placed.utc(e.end))
                peak_ppm = \(CSVSampleWriter.decimal(e.peakPPM, places: 4))
                dose_ppm_s = \(CSVSampleWriter.decimal(e.dosePPMSeconds, places: 4))
                lat = \(CSVSampleWriter.decimal(g.latitude, places: 7))
                lon = \(CSVSampleWriter.decimal(g.longitude, places: 7))

                """
        }
        return out
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if ch.value < 0x20 || ch.value == 0x7F {
                    let hex = String(ch.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        return out + "\""
    }
}
