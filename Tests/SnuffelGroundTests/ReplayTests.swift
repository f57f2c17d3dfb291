import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGeo
import SnuffelGround
import SnuffelSim
import SnuffelWire
import Testing

/// The repository root, found from this file's path.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/SnuffelGroundTests/ReplayTests.swift
    return parts.joined(separator: "/")
}()

func shippedConfiguration() throws -> PayloadConfiguration {
    try PayloadConfiguration.load(path: repositoryRoot + "/deploy/payload.example.toml")
}

func scratchPath(_ name: String) -> String {
    let directory = NSTemporaryDirectory() + "snuffel-ground-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    return directory + "/" + name
}

/// One simulated flight over the bundled MDMA-lab scenario, written as a flight log once
/// and shared by the tests (simulating is the slow part).
struct SimulatedLab: Sendable {
    let placed: PlacedFlight
    let configuration: PayloadConfiguration
    let logPath: String
    let recorded: [Detection]

    static let shared: Result<SimulatedLab, any Error> = Result { try SimulatedLab(scenario: "mdma-lab") }

    /// Simulates a bundled scenario with the example payload and writes its flight log to a
    /// scratch file.
    init(scenario name: String) throws {
        configuration = try shippedConfiguration()
        let scenario = try Scenario.load(path: repositoryRoot + "/scenarios/\(name).toml")
        let simulator = try FlightSimulator(
            scenario: scenario, channels: configuration.pipeline.channels, library: configuration.pipeline.library)
        placed = PlacedFlight(scenario: scenario, flight: simulator.run())
        logPath = scratchPath("\(name).ulg")
        recorded = try SimulatedFlightLog.writeLog(placed, configuration: configuration, path: logPath)
    }
}

@Suite("snuffel replay")
struct ReplayTests {
    @Test("replaying a log with its recorded configuration gives exactly the detections made in flight, every time")
    func replayIsDeterministic() throws {
        let lab = try SimulatedLab.shared.get()
        try #require(!lab.recorded.isEmpty, "the simulated lab flight made no detection in flight")
        let first = try Replay.run(path: lab.logPath)
        let second = try Replay.run(path: lab.logPath)
        #expect(first.configurationOrigin == .recorded)
        #expect(first.agreement == .same(count: lab.recorded.count))
        #expect(first.detections == second.detections)
        #expect(first.detections.map(\.onset) == lab.recorded.map(\.onset))
        #expect(first.detections.map(\.signatureClass) == lab.recorded.map(\.signatureClass))
        #expect(first.samples == lab.placed.flight.samples.count)
        #expect(first.track.points.count == lab.placed.flight.poses.count)
        #expect(first.utcOffset == Int64(lab.placed.flight.utcAtStart) - Int64(lab.placed.flight.monotonicStart))
        #expect(first.info[SnuffelLogKey.scenario] == lab.placed.scenario.name)
    }

    @Test("geotags land where the drone truly was when the plume's air entered the inlet, closer than tagging at the sample time")
    func geotagLagCorrection() throws {
        let lab = try SimulatedLab.shared.get()
        let result = try Replay.run(path: lab.logPath)
        let truth = lab.placed.flight.truth
        let channels = lab.configuration.pipeline.channels
        var corrected: [Double] = [], naive: [Double] = []
        for (d, tag) in zip(result.detections, result.geotags) {
            guard case .success(let g) = tag else { continue }
            // The encounter behind the detection: the strongest overlapping it.
            let slack = UInt64(Evaluation.matchSlack * 1e6)
            guard let e = truth.encounters.filter({ d.onset <= $0.end + slack && d.end + slack >= $0.start })
                .max(by: { $0.peakPPM < $1.peakPPM }) else { continue }
            let truePlace = lab.placed.position(e.truePositionAtPeak)
            corrected.append(horizontalDistance(g.position, truePlace))
            // Tagging at the time the fastest hit channel reported the peak (no inlet correction).
            let delay = d.channels.filter(\.hit).map { channels[$0.channel].delaySeconds }.min() ?? 0
            if let fix = result.track.fix(at: d.peak + UInt64(delay * 1e6)) {
                naive.append(horizontalDistance(fix.position, truePlace))
            }
        }
        try #require(corrected.count >= 2, "too few geotagged detections matched to the truth: \(corrected.count)")
        let median = corrected.sorted()[corrected.count / 2]
        let naiveMedian = naive.sorted()[naive.count / 2]
        #expect(median < naiveMedian, "corrected \(corrected), naive \(naive)")
        #expect(median < 10, "median geotag error \(median) m: \(corrected)")
        // The stated uncertainty is of the right size: most errors within 3σ.
        let within = zip(result.detections, result.geotags).filter { _, tag in
            (try? tag.get()).map { $0.uncertainty > 0 && $0.uncertainty < 30 } ?? false
        }.count
        #expect(within == result.geotags.filter { (try? $0.get()) != nil }.count)
    }

    @Test("a log cut short replays up to the cut and says how much was lost")
    func truncatedLog() throws {
        let lab = try SimulatedLab.shared.get()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: lab.logPath))
        let cut = scratchPath("cut.ulg")
        try bytes.prefix(bytes.count * 6 / 10 + 7).write(to: URL(fileURLWithPath: cut))
        let full = try Replay.run(path: lab.logPath)
        let partial = try Replay.run(path: cut)
        #expect(partial.truncatedBytes > 0)
        #expect(partial.samples < full.samples && partial.samples > full.samples / 2)
        // Every detection that ended well before the cut is found again, identically.
        let lastRead = partial.lastTime
        let early = full.detections.filter { $0.end + 60_000_000 < lastRead }
        #expect(Array(partial.detections.prefix(early.count)) == early)
    }

    @Test("other settings replace the recorded ones, and the summary says the detections differ")
    func configurationOverride() throws {
        let lab = try SimulatedLab.shared.get()
        var strict = lab.configuration
        strict.pipeline.detection.hitOnSigma = 150
        strict.pipeline.detection.singleChannelSigma = 150
        var options = ReplayOptions()
        options.configuration = strict
        let result = try Replay.run(path: lab.logPath, options: options)
        #expect(result.configurationOrigin != .recorded)
        #expect(result.detections.count < lab.recorded.count)
        if case .different = result.agreement {} else { Issue.record("agreement \(result.agreement)") }
    }

    @Test("a configuration with other channels than the log's is refused, naming both")
    func channelMismatch() throws {
        let lab = try SimulatedLab.shared.get()
        var other = lab.configuration
        other.pipeline.channels.swapAt(0, 1)
        var options = ReplayOptions()
        options.configuration = other
        #expect {
            try Replay.run(path: lab.logPath, options: options)
        } throws: { error in
            "\(error)".contains("voc_raw, nox_raw") && "\(error)".contains("nox_raw, voc_raw")
        }
    }

    @Test("a log without a recorded configuration asks for --config")
    func logWithoutConfiguration() throws {
        let path = scratchPath("bare.ulg")
        let writer = try ULogFileWriter(path: path, startTime: 0, channelIDs: ["pid"])
        try writer.append(Sample(channel: 0, time: 1_000_000, value: 1))
        try writer.close()
        #expect {
            try Replay.run(path: path)
        } throws: { error in
            "\(error)".contains("--config") && "\(error)".contains(path)
        }
    }

    @Test("the CSV export of a simulated flight replays with geotags near the log's")
    func csvReplay() throws {
        let lab = try SimulatedLab.shared.get()
        let csv = scratchPath("flight.csv")
        try SimulatedFlightLog.writeCSV(lab.placed, channels: lab.configuration.pipeline.channels, path: csv)
        var options = ReplayOptions()
        options.configuration = lab.configuration
        let fromCSV = try Replay.run(path: csv, options: options)
        let fromLog = try Replay.run(path: lab.logPath)
        #expect(fromCSV.format == .csv)
        #expect(fromCSV.track.points.count == lab.placed.flight.poses.count)
        #expect(fromCSV.detections.count == fromLog.detections.count)
        for (a, b) in zip(fromCSV.geotags, fromLog.geotags) {
            guard case .success(let x) = a, case .success(let y) = b else {
                Issue.record("a detection without geotag: \(a) / \(b)")
                continue
            }
            #expect(horizontalDistance(x.position, y.position) < 2)
        }
    }

    @Test("--out writes RFC 7946 GeoJSON: one point per geotagged detection, the track as lines")
    func geoJSONExport() throws {
        let lab = try SimulatedLab.shared.get()
        let result = try Replay.run(path: lab.logPath)
        let directory = scratchPath("out")
        let files = try result.writeAll(directory: directory, located: Localisation.locate(result))
        #expect(files.map { ($0 as NSString).lastPathComponent } == [
            "detections.geojson", "track.geojson", "sources.geojson", "gasmap.geojson", "flight.geojson", "flight.kml", "flight.gpx",
            "detections.csv",
        ])
        let detections = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: files[0]))) as? [String: Any]
        let features = try #require(detections?["features"] as? [[String: Any]])
        #expect(features.count == result.geotags.filter { (try? $0.get()) != nil }.count)
        let first = try #require(features.first)
        let coordinates = try #require((first["geometry"] as? [String: Any])?["coordinates"] as? [Double])
        let tag = try #require(result.geotags.compactMap { try? $0.get() }.first)
        #expect(abs(coordinates[0] - tag.position.longitude) < 1e-6 && abs(coordinates[1] - tag.position.latitude) < 1e-6)
        let properties = try #require(first["properties"] as? [String: Any])
        #expect(properties["class"] as? String == result.className(result.detections[0]))
        let track = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: files[1]))) as? [String: Any]
        let lines = try #require(track?["features"] as? [[String: Any]])
        #expect(!lines.isEmpty)
        #expect((lines[0]["geometry"] as? [String: Any])?["type"] as? String == "LineString")
    }
}

@Suite("snuffel evaluate")
struct EvaluationTests {
    @Test("the lab scenario: its lab is found, nothing else raises an alert")
    func labScenario() throws {
        let lab = try SimulatedLab.shared.get()
        let result = try Replay.run(path: lab.logPath)
        let score = Evaluation.score(lab.placed, detections: result.detections, geotags: result.geotags,
                                     library: lab.configuration.pipeline.library)
        #expect(!score.encounteredLabs.isEmpty)
        #expect(score.detectedLabs == score.encounteredLabs)
        #expect(score.falseAlarms == 0)
        // The localisation error splits into its parts along and across the wind.
        let located = Evaluation.localisationErrors(lab.placed, located: Localisation.locate(result))
        let vent = try #require(located.first)
        let error = try #require(vent.error), along = try #require(vent.downwind), across = try #require(vent.crosswind)
        #expect(abs((along * along + across * across).squareRoot() - error) < 0.01 * error + 0.1, "\(vent)")
    }

    @Test("confounders alone raise no alert")
    func confoundersOnly() throws {
        let configuration = try shippedConfiguration()
        let scenario = try Scenario.load(path: repositoryRoot + "/scenarios/confounders-only.toml")
        let (score, _) = try Evaluation.score(scenario: scenario, configuration: configuration)
        #expect(score.encounteredLabs.isEmpty)
        #expect(!score.encounteredConfounders.isEmpty)
        #expect(score.falseAlarms == 0, "\(score.matches.map { "\($0.predicted) for \($0.trueClass)" })")
    }

    @Test("scoring counts a confounder called a lab as a false alarm, and a missed lab as missed")
    func scoringRules() throws {
        let lab = try SimulatedLab.shared.get()
        let library = lab.configuration.pipeline.library
        let result = try Replay.run(path: lab.logPath)
        // No detections: every encountered lab is missed, no false alarm.
        let none = Evaluation.score(lab.placed, detections: [], geotags: [], library: library)
        #expect(none.detectedLabs.isEmpty && none.falseAlarms == 0 && !none.encounteredLabs.isEmpty)
        // An alert far from any plume (a day later) is a false alarm with true class none.
        var stray = try #require(result.detections.first { $0.isAlert })
        stray.onset += 86_400_000_000
        stray.peak += 86_400_000_000
        stray.end += 86_400_000_000
        let spurious = Evaluation.score(lab.placed, detections: [stray], geotags: [.failure(.emptyTrack)], library: library)
        #expect(spurious.falseAlarms == 1)
        #expect(spurious.matches.first?.trueClass == "none")
    }
}

@Suite("The bundled sample flights")
struct BundledFlightTests {
    @Test("each is what its scenario makes today, and replays to the detections it recorded",
          arguments: ["mdma-lab", "waste-dump-manure", "confounders-only"])
    func upToDate(name: String) throws {
        let path = repositoryRoot + "/flightlogs/\(name).ulg"
        let bundled = try Replay.run(path: path)
        #expect(bundled.agreement == .same(count: bundled.recordedDetections.count), "\(bundled.agreement)")
        #expect(bundled.info[SnuffelLogKey.scenario] == name)
        // Re-simulate; compare values, not bytes (libm may differ in the last bit between machines).
        let fresh = try SimulatedLab(scenario: name)
        let placed = fresh.placed
        let detections = fresh.recorded
        let hint = "the bundled log is stale: run scripts/make-sample-flights"
        #expect(bundled.samples == placed.flight.samples.count, "\(hint)")
        #expect(bundled.recordedDetections.map(\.signatureClass) == detections.map(\.signatureClass), "\(hint)")
        #expect(bundled.recordedDetections.map(\.onset) == detections.map(\.onset), "\(hint)")
        let truth = try String(contentsOfFile: repositoryRoot + "/flightlogs/\(name).truth.toml", encoding: .utf8)
        #expect(truth == SimulatedFlightLog.truthTOML(placed), "\(hint)")
    }
}

@Suite("Source localisation of a replay")
struct LocalisationTests {
    @Test("the lab flight's vent is localised as a lab, upwind of where the drone smelled it, with its areas")
    func labVent() throws {
        let lab = try SimulatedLab.shared.get()
        let result = try Replay.run(path: lab.logPath)
        let located = Localisation.locate(result)
        #expect(located.note == nil)
        let source = try #require(located.sources.first)
        #expect(!source.isConfounder)
        #expect(source.radius50 > 0 && source.radius50 < source.radius95)
        let truth = try #require(lab.placed.flight.truth.sources.first)
        let error = horizontalDistance(source.position, lab.placed.position(truth.position))
        // The sources are localised far less well than detections are geotagged (see the
        // README's figures); this guards against gross errors, a sign flip of the wind.
        #expect(error < 60, "localised \(error) m from the vent")
        // The stated 95 % radius is a distance from the position that the vent lies within.
        #expect(error <= source.radius95, "localised \(error) m from the vent, 95 % radius \(source.radius95) m")
        // Upwind of the first geotagged detection: the source is where the plume comes from.
        let wind = try #require(located.wind)
        let plane = try #require(located.plane)
        let first = try #require(result.geotags.compactMap { try? $0.get() }.first)
        let s = plane.offset(of: source.position), d = plane.offset(of: first.position)
        #expect((d.east - s.east) * wind.east + (d.north - s.north) * wind.north > 0)
    }

    @Test("without wind, nothing is localised and the note says how to give it")
    func noWind() throws {
        let lab = try SimulatedLab.shared.get()
        var result = try Replay.run(path: lab.logPath)
        result.wind = []
        let located = Localisation.locate(result)
        #expect(located.sources.isEmpty)
        #expect(located.note?.contains("--wind") == true)
        let given = Localisation.locate(result, wind: (east: 2.6, north: 1.3))
        #expect(!given.sources.isEmpty)
        #expect(given.windOrigin == "given")
    }
}

@Suite("Inputs that are not flight data")
struct NotFlightDataTests {
    @Test("a binary file is neither a log nor a CSV file, and says so")
    func binary() throws {
        let path = scratchPath("photo.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array(repeating: 0x4A, count: 100)).write(to: URL(fileURLWithPath: path))
        #expect {
            try Replay.run(path: path)
        } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("neither a Snuffel flight log")
        }
    }

    @Test("a ULog header followed by garbage is named as holding no Snuffel data")
    func garbageAfterHeader() throws {
        let path = scratchPath("garbage.ulg")
        var bytes = Array("ULog".utf8) + [0x01, 0x12, 0x35, 0x01] + Array(repeating: 0, count: 8)
        var state: UInt64 = 42
        for _ in 0..<300 {
            state = state &* 6_364_136_223_846_793_005 &+ 1
            bytes.append(UInt8(truncatingIfNeeded: state >> 33))
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            try Replay.run(path: path)
        } throws: { error in
            "\(error)".contains(path) && ("\(error)".contains("no Snuffel data") || "\(error)".contains("byte "))
        }
    }

    @Test("a CSV header error is named without the hint about skipping rows")
    func headerError() throws {
        let path = scratchPath("bad.csv")
        try "time,pid\n1,2\n".write(toFile: path, atomically: true, encoding: .utf8)
        var options = ReplayOptions()
        options.configuration = try shippedConfiguration()
        #expect {
            try Replay.run(path: path, options: options)
        } throws: { error in
            "\(error)".contains("line 1") && !"\(error)".contains("--skip-bad-rows")
        }
    }
}

@Suite("Extra source estimates")
struct ExtraEstimateTests {
    @Test("an estimate that is no true source's nearest is counted as extra, however near it lies")
    func extraEstimates() throws {
        let lab = try SimulatedLab.shared.get()
        let result = try Replay.run(path: lab.logPath)
        var located = Localisation.locate(result)
        let first = try #require(located.sources.first)
        // One source's plume reached the drone: every estimate but its nearest is extra.
        #expect(Set(lab.placed.flight.truth.encounters.map(\.sourceID)).count == 1)
        let before = Evaluation.extraEstimates(lab.placed, located: located)
        #expect(before == located.sources.count - 1)
        // A copy a kilometre away: nobody's nearest.
        var far = first
        far.position.latitude += 0.009
        located.sources.append(far)
        #expect(Evaluation.extraEstimates(lab.placed, located: located) == before + 1)
        // The same copy beside the source's own estimate: still extra (only one is nearest).
        located.sources[located.sources.count - 1].position = first.position
        #expect(Evaluation.extraEstimates(lab.placed, located: located) == before + 1)
    }
}

@Suite("Sources paired with estimates one to one")
struct PairingTests {
    @Test("the nearest pair first, each estimate used once; a source left over has none")
    func nearestFirst() {
        // Two sources, one estimate between them, nearer the second: the first has none.
        #expect(Evaluation.pairNearestFirst([[30], [20]]) == [nil, 20])
        // Two estimates: the nearest pair (source 1, estimate 0) first, then what is left.
        #expect(Evaluation.pairNearestFirst([[10, 50], [5, 80]]) == [50, 5])
        // One source, two estimates: its nearest.
        #expect(Evaluation.pairNearestFirst([[40, 12]]) == [12])
        // No estimates, or no sources.
        #expect(Evaluation.pairNearestFirst([[], []]) == [nil, nil])
        #expect(Evaluation.pairNearestFirst([]) == [])
    }
}
