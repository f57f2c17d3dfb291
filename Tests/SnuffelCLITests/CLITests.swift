import Foundation
import Testing

/// Runs the built `snuffel` executable as a user would.
struct CLI {
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/SnuffelCLITests/CLITests.swift
        return parts.joined(separator: "/")
    }()

    /// The executable sits beside the test bundle in the build directory.
    static var executable: URL {
        let here = Bundle.main.bundleURL
        for dir in [here, here.deletingLastPathComponent()] {
            let candidate = dir.appendingPathComponent("snuffel")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return URL(fileURLWithPath: root + "/.build/debug/snuffel")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        try run(executable: executable, arguments)
    }

    static func run(executable: URL, _ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func temporaryFile(_ name: String, _ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

@Suite("The snuffel command")
struct CLITests {
    @Test("replay without arguments replays the bundled flight log, agrees with the flight and geotags its alerts")
    func replayDefault() throws {
        let r = try CLI.run(["replay"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("flightlogs/mdma-lab.ulg"))
        #expect(r.stdout.contains("configuration recorded in the log"))
        #expect(r.stdout.contains("in flight: the same"), "\(r.stdout)")
        #expect(r.stdout.contains("mdma-synthesis"))
        #expect(r.stdout.contains("ALERT"))
        #expect(r.stdout.contains(" m"), "no geotag")
        #expect(r.stdout.contains("events  │"), "no timeline")
    }

    @Test("replay of the CSV sample lists its five plumes with two alerts")
    func replayCSV() throws {
        let r = try CLI.run(["replay", "flightlogs/sample-core.csv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("5 detections, 2 alerts"))
        for name in ["mdma-synthesis", "manure (confounder)", "exhaust (confounder)", "solvent (confounder)", "drug-waste"] {
            #expect(r.stdout.contains(name), "missing \(name)")
        }
    }

    @Test("replay --json gives the detections with times, class, confidence, position and compounds")
    func replayJSON() throws {
        let r = try CLI.run(["replay", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let detections = try #require(object?["detections"] as? [[String: Any]])
        try #require(!detections.isEmpty)
        for key in ["onset_us", "peak_us", "end_us", "class", "confidence", "lat", "lon", "alt_m", "uncertainty_m", "compounds"] {
            #expect(detections[0][key] != nil, "missing \(key)")
        }
        #expect(detections.contains { $0["class"] as? String == "mdma-synthesis" && ($0["alert"] as? Bool) == true })
        let onset = try #require(detections[0]["onset_us"] as? Double)
        #expect(onset > 1.7e15, "onset_us is not UTC µs: \(onset)")
        let flight = try #require(object?["flight"] as? [String: Any])
        #expect(flight["agrees_with_flight"] as? Bool == true)
        #expect(flight["format"] as? String == "ulog")
    }

    @Test("simulate writes a log and its truth; replay --out writes GeoJSON; evaluate scores a scenario")
    func simulateReplayEvaluate() throws {
        let log = try CLI.temporaryFile("flight.ulg", "")
        let simulated = try CLI.run(["simulate", "--scenario", "confounders-only", "--out", log])
        #expect(simulated.status == 0, "\(simulated.stderr)")
        #expect(simulated.stdout.contains("plume encounters"))
        let truth = String(log.dropLast(4)) + ".truth.toml"
        #expect(FileManager.default.fileExists(atPath: truth))
        let out = (log as NSString).deletingLastPathComponent + "/out"
        let replayed = try CLI.run(["replay", log, "--out", out])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        for name in ["detections.geojson", "track.geojson", "sources.geojson", "gasmap.geojson", "flight.kml", "flight.gpx", "detections.csv"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name) not written")
        }
        let gpx = out + "/one.gpx"
        let exported = try CLI.run(["export", log, "--format", "gpx", "--out", gpx])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect((try? String(contentsOfFile: gpx, encoding: .utf8))?.contains("<gpx version=\"1.1\"") == true)
        let wrong = try CLI.run(["export", log, "--format", "shp", "--out", gpx])
        #expect(wrong.status != 0 && wrong.stderr.contains("geojson, kml, gpx, csv"), "\(wrong.stderr)")
        let evaluated = try CLI.run(["evaluate", "--only", "confounders-only", "--json"])
        #expect(evaluated.status == 0, "\(evaluated.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any]
        #expect((object?["scenarios"] as? [Any])?.count == 1)
        #expect(object?["false_alarms"] as? Int == 0)
        // The sources localised, and how many are no true source's nearest (at most all).
        let localised = try #require(object?["sources_localised"] as? Int)
        let extra = try #require(object?["sources_localised_extra"] as? Int)
        #expect(localised >= 1 && extra >= 0 && extra <= localised, "\(localised) localised, \(extra) extra")
        // Paired one to one, a source can only lose its estimate: never fewer without one.
        let unpaired = try #require(object?["sources_unpaired_wind_2_6"] as? Int)
        let without = try #require(object?["sources_not_localised"] as? Int)
        #expect(unpaired >= without)
        // Each source's own error: the median over them is the summary's.
        let sources = ((object?["scenarios"] as? [[String: Any]])?.first?["sources"] as? [[String: Any]]) ?? []
        #expect(!sources.isEmpty && sources.allSatisfy { $0["id"] is String && $0["class"] is String && $0.keys.contains("error_m") })
        let errors = sources.compactMap { $0["error_m"] as? Double }.sorted()
        #expect(errors.count + without == sources.count, "\(sources)")
        if let median = object?["localisation_error_median_m"] as? Double, !errors.isEmpty {
            #expect(median == errors[Int((0.5 * Double(errors.count - 1)).rounded())])
        }
        for source in sources {
            guard let error = source["error_m"] as? Double, let along = source["downwind_m"] as? Double,
                  let across = source["crosswind_m"] as? Double else { continue }
            #expect(abs((along * along + across * across).squareRoot() - error) < 0.01 * error + 0.01, "\(source)")
        }
        let unknown = try CLI.run(["simulate", "--scenario", "no-such-scenario", "--out", log])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no-such-scenario") && unknown.stderr.contains("mdma-lab"), "\(unknown.stderr)")
    }

    @Test("evaluate --repeat flies each scenario with other seeds, --stress with a worse payload; a bad count is refused")
    func evaluateRepeatAndStress() throws {
        func evaluate(_ extra: [String]) throws -> [String: Any] {
            let run = try CLI.run(["evaluate", "--only", "confounders-only", "--json"] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            return try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any] ?? [:]
        }
        func names(_ object: [String: Any]) -> [String] {
            (object["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        }
        func detections(_ object: [String: Any]) -> [Int] {
            (object["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["detections"] as? Int }
        }
        let once = try evaluate([])
        let twice = try evaluate(["--repeat", "2"])
        #expect(names(twice) == ["confounders-only", "confounders-only~2"])
        let hours = once["flight_hours"] as? Double ?? 0
        #expect(hours > 0 && abs((twice["flight_hours"] as? Double ?? 0) - 2 * hours) < 1e-9)
        #expect(detections(twice).first == detections(once).first, "the first flight is the scenario's own")
        let stressed = try evaluate(["--stress"])
        #expect(names(stressed) == ["confounders-only"])
        #expect(stressed["encounter_detection_rate"] as? Double != once["encounter_detection_rate"] as? Double
                || detections(stressed) != detections(once), "--stress changed nothing")
        let bad = try CLI.run(["evaluate", "--repeat", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("--repeat"), "\(bad.stderr)")
    }

    @Test("a bad cell stops replay with the line, the column and the reason; --skip-bad-rows counts it")
    func badCell() throws {
        let csv = "time_us,pid\n1000000,1.0\n2000000,1.2.3\n3000000,1.1\n"
        let path = try CLI.temporaryFile("bad.csv", csv)
        let config = try CLI.temporaryFile("payload.toml", """
            signatures = "\(CLI.root)/calibration/signatures.toml"
            [payload]
            name = "one-pid"
            [[channels]]
            id = "pid"
            kind = "pid"
            rate_hz = 1
            calibration = { noise_floor = 1 }
            """)
        let r = try CLI.run(["replay", path, "--config", config])
        #expect(r.status != 0)
        #expect(r.stderr.contains("line 3, column 2 (pid)"), "\(r.stderr)")
        #expect(r.stderr.contains("--skip-bad-rows"))
        let skipped = try CLI.run(["replay", path, "--config", config, "--skip-bad-rows"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stdout.contains("skipped 1 bad rows"))
    }

    @Test("a bad configuration is refused with the file, the key and the reason")
    func badConfig() throws {
        let path = try CLI.temporaryFile("payload.toml", """
            signatures = "\(CLI.root)/calibration/signatures.toml"
            [payload]
            name = "x"
            [[channels]]
            id = "nh3"
            kind = "electro"
            rate_hz = 1
            calibration = {}
            """)
        let r = try CLI.run(["check-config", path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("payload.toml"), "\(r.stderr)")
        #expect(r.stderr.contains("kind"), "\(r.stderr)")
        #expect(r.stderr.contains("unknown channel kind 'electro'"), "\(r.stderr)")
        let ok = try CLI.run(["check-config"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("OK"))
    }

    @Test("a missing file is named", arguments: [["replay", "no-such.csv"], ["replay", "--config", "no-such.toml"], ["evaluate", "--only", "no-such"]])
    func missingFile(arguments: [String]) throws {
        let r = try CLI.run(arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains("no-such"), "\(r.stderr)")
    }

    @Test("every command explains itself", arguments: [[], ["replay"], ["export"], ["simulate"], ["evaluate"], ["signatures"], ["check-config"]])
    func help(command: [String]) throws {
        let r = try CLI.run(command + ["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE:"))
        #expect(r.stdout.count > 300, "help too short for a new user: \(r.stdout)")
    }

    @Test("signatures lists the classes and, with --sources, where each figure comes from")
    func signatures() throws {
        let r = try CLI.run(["signatures", "--sources"])
        #expect(r.status == 0, "\(r.stderr)")
        for id in ["mdma-synthesis", "amphetamine-synthesis", "drug-waste", "manure", "exhaust", "solvent", "smoke"] {
            #expect(r.stdout.contains(id))
        }
        #expect(r.stdout.contains("illustrative"))
    }
}
