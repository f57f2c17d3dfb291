import ArgumentParser
import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGround

/// `snuffel evaluate`: scores detection over a set of simulated scenarios.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score detection over simulated scenarios with ground truth: detection rate, false alarms, confusion.",
        discussion: """
            Each scenario is simulated (see snuffel simulate), the pipeline runs over it as the \
            drone would, and its detections are matched against the ground truth: a detection \
            belongs to the plume that reached the inlet during it (the strongest, if several).

            Reported:
              probability of detection  lab and dump sources whose plume reached the drone and \
            that raised an alert, over all such sources;
              false alarms per hour     alerts with no lab or dump plume behind them (a confounder \
            called a lab counts), per flight hour;
              encounters detected       plume encounters of any source matched by a detection;
              confusion                 true class (none = no plume) against the class given;
              geotag error              distance from each detection's geotag to where the drone \
            truly was when the air of the plume's peak entered the inlet;
              localisation error        for each source whose plume reached the drone, the \
            distance to the nearest source localised, with the share inside its 95 % radius;
              sources localised         how many, and how many of them are no true source's \
            nearest (extra estimates, which the localisation error does not see);
              paired error              the localisation error with each estimate serving one \
            source at most (pairs nearest first): sources whose plumes merged into one estimate \
            count once, the others as without one.

            One seed per scenario gives a handful of sources, so a change of a setting that \
            moves a figure by a source or two may be luck: --repeat flies every scenario again \
            with other seeds (other plumes, noise and sensor deviations), and --stress flies \
            them with a payload further from its configuration (see SensorWorld.stressed: \
            responses spread by e^0.5, sensors 1.5 times slower, 5 % of samples lost, more \
            drift), to check that a setting is robust rather than fitted to one flight.

            Examples:
              snuffel evaluate
              snuffel evaluate --only mdma-lab --only confounders-only
              snuffel evaluate --config tuned.toml --json > scores.json
              snuffel evaluate --repeat 3 --stress
            """)

    @Option(help: ArgumentHelp("Directory of scenario files (default: the bundled scenarios/).", valueName: "dir"))
    var scenarios: String?

    @Option(help: ArgumentHelp("Evaluate only this scenario (by name; repeat for more).", valueName: "name"))
    var only: [String] = []

    @OptionGroup var payload: PayloadOptions

    @Flag(help: "Print the result as JSON instead of a table: the summary, and per scenario its counts and each source with its localisation error (metres, split along and across the wind), 95 % radius and estimated class.")
    var json = false

    @Flag(help: "List every detection of every scenario with the source it was matched to and its geotag error, and each source's localisation.")
    var details = false

    @Option(help: ArgumentHelp("Fly every scenario this many times, with its own seed and then others (1–20).", valueName: "n"))
    var `repeat` = 1

    @Flag(help: "Fly with a payload further from its configuration than each scenario says (see the discussion).")
    var stress = false

    func validate() throws {
        guard (1...20).contains(`repeat`) else { throw ValidationError("--repeat must be 1 to 20, not \(`repeat`)") }
    }

    func run() throws {
        let directory = scenarios ?? Bundled.path("scenarios")
        var files = ScenarioFiles.list(directory: directory)
        if !only.isEmpty {
            files = try only.map { try ScenarioFiles.resolve(FileManager.default.fileExists(atPath: $0) ? $0 : (directory as NSString).appendingPathComponent($0 + ".toml")) }
        }
        guard !files.isEmpty else { throw Failure("no scenario files (*.toml) in \(directory)") }
        let config = try payload.load()
        let flights = files.count * `repeat`
        let progress = Progress(label: "evaluating \(files.count) scenarios" + (flights > files.count ? ", \(flights) flights" : ""))
        var scores: [ScenarioScore] = []
        for (i, file) in files.enumerated() {
            let loaded = try ScenarioFiles.load(file)
            for k in 0..<`repeat` {
                var scenario = loaded
                if k > 0 {
                    // Seeds far apart (a prime step) so that no two flights share one.
                    scenario.seed = loaded.seed &+ UInt64(k) &* 7919
                    scenario.name = "\(loaded.name)~\(k + 1)"
                }
                if stress { scenario.sensors = scenario.sensors.stressed() }
                do {
                    scores.append(try Evaluation.score(scenario: scenario, configuration: config).0)
                } catch {
                    throw Failure("\(file)\(k > 0 ? " (seed \(scenario.seed))" : ""): \(error)")
                }
                progress.update(fraction: Double(i * `repeat` + k + 1) / Double(flights))
            }
        }
        progress.done()
        let summary = EvaluationSummary(scores: scores)
        print(json ? try EvaluationReport.json(summary) : EvaluationReport.text(summary, details: details))
    }
}

/// The evaluation as a table or JSON.
enum EvaluationReport {
    static func percent(_ x: Double) -> String { x.isNaN ? "-" : String(format: "%.0f %%", 100 * x) }

    static func quantile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))]
    }

    static func text(_ s: EvaluationSummary, details: Bool = false) -> String {
        var out = ["snuffel evaluate: \(s.scores.count) scenarios, \(String(format: "%.2f", s.flightHours)) flight hours", ""]
        if details {
            for c in s.scores {
                out.append("\(c.scenario):")
                for m in c.matches {
                    let d = m.detection
                    out.append("  #\(d.sequence) " + pad(m.predicted, 22) + (d.isAlert ? " ALERT " : "       ")
                        + String(format: "%5.1f s long", Double(d.end - d.onset) / 1e6) + "  from " + pad(m.source.map { "\($0) (\(m.trueClass))" } ?? "no plume", 34)
                        + (m.geotagError.map { String(format: "  geotag off by %.1f m", $0) } ?? ""))
                }
                for l in c.localisation {
                    out.append("  source \(l.source) (\(l.signatureClass)): " + (l.error.map {
                        String(format: "nearest estimate %.1f m off (%+.0f m downwind, %+.0f m across), 95 %% radius %.0f m, class ",
                               $0, l.downwind ?? 0, l.crosswind ?? 0, l.radius95 ?? 0) + (l.estimatedClass ?? "-")
                    } ?? "not localised"))
                }
            }
            out.append("")
        }
        out.append(pad("scenario", 28) + " min  labs found  confounders  encounters  detections  false alarms")
        for c in s.scores {
            out.append(pad(c.scenario, 28) + String(format: "%4.1f", c.flightSeconds / 60) + "  "
                + pad("\(c.detectedLabs.count)/\(c.encounteredLabs.count)", 10) + "  " + pad("\(c.encounteredConfounders.count)", 11)
                + "  " + pad("\(c.detectedEncounters)/\(c.encounters)", 10) + "  " + pad("\(c.matches.count)", 10) + "  \(c.falseAlarms)")
        }
        out.append("")
        out.append("probability of detection (labs and dumps): \(percent(s.probabilityOfDetection)) (\(s.labsDetected) of \(s.labsEncountered))")
        out.append("false alarms: \(s.falseAlarms), \(s.falseAlarmsPerHour.isNaN ? "-" : String(format: "%.1f", s.falseAlarmsPerHour)) per flight hour")
        out.append("plume encounters detected: \(percent(s.encounterDetectionRate))")
        let errors = s.geotagErrors
        if let median = quantile(errors, 0.5), let p90 = quantile(errors, 0.9) {
            out.append(String(format: "geotag error: median %.1f m, 90th percentile %.1f m (%d detections)", median, p90, errors.count))
        }
        for (label, range) in [("wind 2-6 m/s", 2.0...6.0), ("all winds", 0.0...100.0)] {
            let (errors, missing) = s.localisationErrors(windRange: range)
            if let median = quantile(errors, 0.5), let p90 = quantile(errors, 0.9) {
                out.append(String(format: "source localisation, %@: median error %.1f m, 90th percentile %.1f m (%d sources; %d without an estimate)",
                                  label, median, p90, errors.count, missing))
            }
        }
        let (paired, unpaired) = s.pairedLocalisationErrors(windRange: 2...6)
        if let median = quantile(paired, 0.5), let p90 = quantile(paired, 0.9) {
            out.append(String(format: "source localisation, wind 2-6 m/s, each estimate paired with one source: median error %.1f m, 90th percentile %.1f m (%d sources; %d without)",
                              median, p90, paired.count, unpaired))
        }
        if !s.coverage95.isNaN { out.append("true source inside the 95 % radius: \(percent(s.coverage95))") }
        out.append("sources localised: \(s.estimates), of which \(s.extraEstimates) the nearest estimate of no true source (not in the errors above)")
        out.append("")
        out.append("confusion (rows: true class, none = no plume; columns: class given):")
        let table = s.confusion
        let trueClasses = table.keys.sorted()
        let given = Set(table.values.flatMap(\.keys)).sorted()
        out.append(pad("", 22) + given.map { pad(String($0.prefix(10)), 11) }.joined())
        for t in trueClasses {
            out.append(pad(t, 22) + given.map { pad(table[t]?[$0].map(String.init) ?? "·", 11) }.joined())
        }
        return out.joined(separator: "\n")
    }

    static func json(_ s: EvaluationSummary) throws -> String {
        struct Out: Encodable {
            var scenarios: [ScenarioOut]
            var flight_hours: Double
            var probability_of_detection: Double?
            var labs_encountered: Int
            var labs_detected: Int
            var false_alarms: Int
            var false_alarms_per_hour: Double?
            var encounter_detection_rate: Double?
            var geotag_error_median_m: Double?
            var geotag_error_p90_m: Double?
            var localisation_error_median_m: Double?
            var localisation_error_p90_m: Double?
            var localisation_error_median_wind_2_6_m: Double?
            var localisation_error_p90_wind_2_6_m: Double?
            var sources_not_localised: Int
            var localisation_error_paired_median_wind_2_6_m: Double?
            var localisation_error_paired_p90_wind_2_6_m: Double?
            var sources_unpaired_wind_2_6: Int
            var sources_localised: Int
            var sources_localised_extra: Int
            var inside_radius95: Double?
            var confusion: [String: [String: Int]]
        }
        struct ScenarioOut: Encodable {
            var name: String; var flight_s: Double; var labs_encountered: [String]; var labs_detected: [String]
            var confounders_encountered: [String]; var encounters: Int; var encounters_detected: Int; var detections: Int; var false_alarms: Int
            var sources: [SourceOut]
        }
        /// A source whose plume reached the drone, and its nearest estimate (null fields:
        /// not localised).
        struct SourceOut: Encodable {
            var id: String; var `class`: String; var wind_m_s: Double
            var error_m: Double?; var downwind_m: Double?; var crosswind_m: Double?
            var radius95_m: Double?; var estimated_class: String?; var paired_error_m: Double?

            enum CodingKeys: String, CodingKey {
                case id, `class`, wind_m_s, error_m, downwind_m, crosswind_m, radius95_m, estimated_class, paired_error_m
            }

            // Written out so that a source without an estimate has nulls, not missing keys.
            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(id, forKey: .id)
                try c.encode(`class`, forKey: .class)
                try c.encode(wind_m_s, forKey: .wind_m_s)
                try c.encode(error_m, forKey: .error_m)
                try c.encode(downwind_m, forKey: .downwind_m)
                try c.encode(crosswind_m, forKey: .crosswind_m)
                try c.encode(radius95_m, forKey: .radius95_m)
                try c.encode(estimated_class, forKey: .estimated_class)
                try c.encode(paired_error_m, forKey: .paired_error_m)
            }
        }
        func finite(_ x: Double) -> Double? { x.isFinite ? x : nil }
        let errors = s.geotagErrors
        let (located, missing) = s.localisationErrors()
        let (moderate, _) = s.localisationErrors(windRange: 2...6)
        let (paired, unpaired) = s.pairedLocalisationErrors(windRange: 2...6)
        let out = Out(
            scenarios: s.scores.map {
                ScenarioOut(name: $0.scenario, flight_s: $0.flightSeconds, labs_encountered: $0.encounteredLabs, labs_detected: $0.detectedLabs,
                            confounders_encountered: $0.encounteredConfounders, encounters: $0.encounters,
                            encounters_detected: $0.detectedEncounters, detections: $0.matches.count, false_alarms: $0.falseAlarms,
                            sources: $0.localisation.map {
                                SourceOut(id: $0.source, class: $0.signatureClass, wind_m_s: $0.windSpeed, error_m: $0.error,
                                          downwind_m: $0.downwind, crosswind_m: $0.crosswind, radius95_m: $0.radius95,
                                          estimated_class: $0.estimatedClass, paired_error_m: $0.pairedError)
                            })
            },
            flight_hours: s.flightHours, probability_of_detection: finite(s.probabilityOfDetection),
            labs_encountered: s.labsEncountered, labs_detected: s.labsDetected, false_alarms: s.falseAlarms,
            false_alarms_per_hour: finite(s.falseAlarmsPerHour), encounter_detection_rate: finite(s.encounterDetectionRate),
            geotag_error_median_m: quantile(errors, 0.5), geotag_error_p90_m: quantile(errors, 0.9),
            localisation_error_median_m: quantile(located, 0.5), localisation_error_p90_m: quantile(located, 0.9),
            localisation_error_median_wind_2_6_m: quantile(moderate, 0.5), localisation_error_p90_wind_2_6_m: quantile(moderate, 0.9),
            sources_not_localised: missing,
            localisation_error_paired_median_wind_2_6_m: quantile(paired, 0.5), localisation_error_paired_p90_wind_2_6_m: quantile(paired, 0.9),
            sources_unpaired_wind_2_6: unpaired, sources_localised: s.estimates, sources_localised_extra: s.extraEstimates,
            inside_radius95: finite(s.coverage95), confusion: s.confusion)
        return try prettyJSON(out)
    }
}
