import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGeo
import SnuffelSim
import SnuffelWire

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
        let recorder = try FlightRecorder(
            path: path, pipeline: try Pipeline(configuration: configuration.pipeline), startTime: flight.monotonicStart,
            utcOffset: Int64(clamping: flight.utcAtStart) &- Int64(clamping: flight.monotonicStart),
            payloadTOML: configuration.payloadFile.text, signaturesTOML: configuration.signaturesFile.text,
            calibrationTOML: configuration.calibrationFiles.sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) },
            info: [
                (SnuffelLogKey.writer, "snuffel simulate"), (SnuffelLogKey.scenario, placed.scenario.name),
                (SnuffelLogKey.payloadPath, configuration.payloadFile.path),
            ], sealer: sealer)
        var detections: [Detection] = []
        var i = 0
        for event in placed.events {
            switch event {
            case .sample(let s):
                detections += try recorder.record(s)
                i += 1
                if i % 50_000 == 0 { progress?(Double(i) / Double(max(1, flight.samples.count))) }
            case .pose(let p): try recorder.record(p)
            case .wind(let w): try recorder.record(w)
            }
        }
        detections += try recorder.finish()
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
