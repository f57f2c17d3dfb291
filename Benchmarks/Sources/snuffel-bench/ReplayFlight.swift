import ArgumentParser
import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGeo
import SnuffelGround
import SnuffelSim
import SnuffelTestSupport
import SnuffelWire

/// Times the replay of a one-hour, 16-channel, 50 Hz flight end to end, as `snuffel replay
/// LOG --out DIR` does it: read the ULog and run the pipeline (with geotags), localise,
/// write the exports.
struct ReplayFlight: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Time the replay of a one-hour 16-channel 50 Hz flight log: read+pipeline, localisation, export.",
        discussion: """
            The log (DIR/flight16.ulg) is written first: the reference payload \
            (deploy/payload.example.toml) with every channel at 50 Hz and its seven gas \
            channels again as *_2 (16 channels), SyntheticStream samples with a plume crossing \
            wherever the lawnmower track (5 m/s, lines 20 m apart, poses at 10 Hz) crosses \
            the plume of a lab 150 m upwind, wind at 1 Hz; all of it in the log, as the drone \
            records it. Each run replays it from the file into a fresh output directory.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Flight duration, seconds.")
    var duration: Double = 3600

    @Option(help: "Timed runs (the median of each stage is reported).")
    var runs: Int = 3

    @Flag(help: "Localise on every cell of the posterior grid (no coarse-to-fine pruning), to compare.")
    var noPruning = false

    func run() throws {
        let results = ResultsFile(path: common.resultsPath)
        let path = "\(common.dir)/flight16.ulg"
        let written = try Self.writeFlight(path: path, duration: duration)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print("replay: \(path): \(written.samples) samples of 16 channels at 50 Hz over \(Int(duration)) s, "
              + "\(written.poses) poses, \(size / 1_000_000) MB")
        var read: [Double] = [], locate: [Double] = [], export: [Double] = [], total: [Double] = []
        var summary = ""
        for run in 0..<max(1, runs) {
            let out = "\(common.dir)/replay-out-\(run)"
            let t0 = nanoseconds()
            let result = try Replay.run(path: path)
            let t1 = nanoseconds()
            var settings = LocalisationSettings()
            if noPruning { settings.pruning = nil }
            let located = Localisation.locate(result, settings: settings)
            let t2 = nanoseconds()
            let files = try result.writeAll(directory: out, located: located)
            let t3 = nanoseconds()
            read.append(Double(t1 - t0) * 1e-9)
            locate.append(Double(t2 - t1) * 1e-9)
            export.append(Double(t3 - t2) * 1e-9)
            total.append(Double(t3 - t0) * 1e-9)
            summary = "\(result.samples) samples, \(result.detections.count) detections, "
                + "\(located.sources.count) sources (\(located.sources.map { "\($0.signatureClass) \($0.hitSeconds) hit s at \(fixed($0.position.latitude, 7)), \(fixed($0.position.longitude, 7)), r50 \(fixed($0.radius50, 2)) m, r95 \(fixed($0.radius95, 2)) m" }.joined(separator: ", "))), "
                + "\(files.count) files"
        }
        print("replay: \(summary)")
        print("replay end to end: median \(fixed(total.median, 3)) s (runs \(total.map { fixed($0, 3) }.joined(separator: ", "))); "
              + "read+pipeline+geotag \(fixed(read.median, 3)) s, localisation \(fixed(locate.median, 3)) s, "
              + "export \(fixed(export.median, 3)) s")
        // Without pruning, under other keys: the summary's row is the default's.
        let key = noPruning ? "swift_replay_dense" : "swift_replay"
        results.record("\(key)_total_s", total.median)
        results.record("\(key)_read_s", read.median)
        results.record("\(key)_locate_s", locate.median)
        results.record("\(key)_export_s", export.median)
    }

    /// The reference payload at 50 Hz with its gas channels twice: 16 channels.
    static func payload() throws -> PayloadConfiguration {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let deploy = root.appendingPathComponent("deploy").path
        let text = try String(contentsOfFile: deploy + "/payload.example.toml", encoding: .utf8)
        // The channel blocks: from each `[[channels]]` line to the next table header.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var head: [String] = [], tail: [String] = [], blocks: [[String]] = []
        for line in lines {
            if line == "[[channels]]" {
                blocks.append([line])
            } else if line.hasPrefix("[") || !tail.isEmpty {
                if blocks.isEmpty { head.append(line) } else { tail.append(line) }
            } else if blocks.isEmpty {
                head.append(line)
            } else {
                blocks[blocks.count - 1].append(line.hasPrefix("rate_hz") ? "rate_hz = 50" : line)
            }
        }
        // The seven gas channels again (every channel that is not temperature or humidity).
        let copies = blocks.filter { !$0.contains("kind = \"temperature\"") && !$0.contains("kind = \"humidity\"") }.map { block in
            block.map { $0.hasPrefix("id = \"") ? "id = \"" + $0.dropFirst(6).prefix { $0 != "\"" } + "_2\"" : $0 }
        }
        let all = (head + (blocks + copies).flatMap { $0 } + tail).joined(separator: "\n")
        return try PayloadConfiguration.parse(text: all, path: deploy + "/payload16.toml", baseDirectory: deploy)
    }

    /// Writes the flight log; returns the counts written.
    static func writeFlight(path: String, duration: Double) throws -> (samples: Int, poses: Int) {
        let configuration = try payload()
        let channels = configuration.pipeline.channels
        guard channels.count == 16 else { throw ValidationError("expected 16 channels, made \(channels.count)") }
        let start: UInt64 = 1_700_000_000_000_000
        let origin = GeoPosition(latitude: 51.45, longitude: 5.48, altitude: 20)
        let plane = LocalTangentPlane(origin: origin)
        // Wind 4 m/s towards north; the lab 150 m south of the survey's first line.
        let windNorth = 4.0
        let source = (east: 300.0, north: -150.0)
        let speed = 5.0, lineLength = 600.0, spacing = 20.0
        func position(_ t: Double) -> (east: Double, north: Double, vEast: Double) {
            let lineTime = lineLength / speed
            let line = Int(t / lineTime) % 15
            let along = t.truncatingRemainder(dividingBy: lineTime) * speed
            let east = line % 2 == 0 ? along : lineLength - along
            return (east, Double(line) * spacing, line % 2 == 0 ? speed : -speed)
        }
        // A plume crossing wherever the track crosses the plume: hits where the model's
        // crosswind spread at that distance downwind covers the drone.
        var events: [SyntheticEvent] = []
        let library = configuration.pipeline.library
        var t = 0.0, inside = false, entered = 0.0
        while t < duration {
            let p = position(t)
            let x = p.north - source.north, y = p.east - source.east
            let now = x > 0 && abs(y) < 1.5 * SourceEstimator.sigmaY(x)
            if now && !inside { entered = t }
            if !now && inside, t - entered >= 1,
               let e = SyntheticEvent.ofClass("mdma-synthesis", in: library, totalPPM: 3, start: entered, duration: t - entered, puffs: 2) {
                events.append(e)
            }
            inside = now
            t += 0.1
        }
        let stream = SyntheticStream(channels: channels, library: library, events: events, duration: duration, startTime: start)
        let samples = stream.samples(seed: 16)
        let writer = try ULogFileWriter(
            path: path, startTime: start, channelIDs: channels.map(\.id), payloadTOML: configuration.payloadFile.text,
            signaturesTOML: configuration.signaturesFile.text,
            calibrationTOML: configuration.calibrationFiles.sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) },
            info: [(SnuffelLogKey.writer, "snuffel-bench replay")])
        try writer.append(ULogClock(time: start, utc: start))
        var poses = 0
        var nextPose = start, nextWind = start
        for s in samples {
            while nextPose <= s.time {
                let p = position(Double(nextPose - start) * 1e-6)
                let g = plane.position(east: p.east, north: p.north, up: 15)
                try writer.append(ULogPose(time: nextPose, latitude: g.latitude, longitude: g.longitude, altitude: Float(g.altitude),
                                           velocityNorth: 0, velocityEast: Float(p.vEast), gpsTime: nextPose))
                poses += 1
                nextPose += 100_000
            }
            while nextWind <= s.time {
                try writer.append(ULogWind(time: nextWind, north: Float(windNorth), east: 0, down: 0))
                nextWind += 1_000_000
            }
            try writer.append(s)
        }
        try writer.close()
        return (samples.count, poses)
    }
}
