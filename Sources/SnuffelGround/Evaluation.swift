import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGeo
import SnuffelSim

/// How detection did on one simulated scenario, scored against its ground truth.
public struct ScenarioScore: Sendable {
    /// What one detection was matched to.
    public struct Match: Sendable {
        public var detection: Detection
        /// The class the detection was given (`unknown` when nothing fits).
        public var predicted: String
        /// The source whose plume the drone was in (of the class the detection names if
        /// several plumes reached the inlet, else the strongest), or nil when no plume
        /// reached it: then the detection is spurious.
        public var source: String?
        /// The true class of that source, or `none`.
        public var trueClass: String
        /// Horizontal distance from the geotag to the drone's true position when the air
        /// of the nearest (in time) encounter peak entered the inlet, metres (nil without a
        /// geotag).
        public var geotagError: Double?
    }

    public var scenario: String
    public var flightSeconds: Double
    /// Lab or dump sources whose plume reached the drone (an encounter), by id.
    public var encounteredLabs: [String]
    /// Those of them that raised at least one alert.
    public var detectedLabs: [String]
    /// Confounder sources whose plume reached the drone.
    public var encounteredConfounders: [String]
    /// Encounters (all sources) and those matched by a detection of any class.
    public var encounters: Int
    public var detectedEncounters: Int
    /// Alerts not explained by a lab or dump plume (a confounder called a lab, or nothing).
    public var falseAlarms: Int
    public var matches: [Match]

    /// How far a localised source lies from a true one.
    public struct Localised: Sendable {
        public var source: String
        public var signatureClass: String
        /// Metres to the nearest source localised; nil when none was.
        public var error: Double?
        /// That source's 95 % radius and class.
        public var radius95: Double?
        public var estimatedClass: String?
        /// The scenario's mean wind speed, m/s.
        public var windSpeed: Double
        /// The error split along the true mean wind (positive: the estimate lies downwind
        /// of the source) and across it (positive: to the left looking downwind), metres;
        /// nil when not localised. Localisation's known weakness is along the wind.
        public var downwind: Double? = nil
        public var crosswind: Double? = nil
        /// Metres to the estimate paired with this source when each estimate may serve one
        /// source only (pairs taken nearest first); nil when none was left for it.
        public var pairedError: Double? = nil
    }

    /// The localisation of each source whose plume reached the drone.
    public var localisation: [Localised] = []
    /// Sources localised in the flight, and how many of them are no true source's nearest
    /// (see ``Evaluation/extraEstimates(_:located:)``).
    public var estimates = 0
    public var extraEstimates = 0
}

/// Totals over a scenario set.
public struct EvaluationSummary: Sendable {
    public var scores: [ScenarioScore]

    public init(scores: [ScenarioScore]) { self.scores = scores }

    public var flightHours: Double { scores.reduce(0) { $0 + $1.flightSeconds } / 3600 }
    public var labsEncountered: Int { scores.reduce(0) { $0 + $1.encounteredLabs.count } }
    public var labsDetected: Int { scores.reduce(0) { $0 + $1.detectedLabs.count } }
    /// Probability of detection: encountered lab or dump sources that raised an alert.
    public var probabilityOfDetection: Double { labsEncountered == 0 ? .nan : Double(labsDetected) / Double(labsEncountered) }
    public var falseAlarms: Int { scores.reduce(0) { $0 + $1.falseAlarms } }
    public var falseAlarmsPerHour: Double { flightHours > 0 ? Double(falseAlarms) / flightHours : .nan }
    /// Encounters of any source matched by a detection, over all encounters.
    public var encounterDetectionRate: Double {
        let n = scores.reduce(0) { $0 + $1.encounters }
        return n == 0 ? .nan : Double(scores.reduce(0) { $0 + $1.detectedEncounters }) / Double(n)
    }

    /// Counts of (true class, predicted class) over all detections; true class `none` for
    /// detections outside any plume.
    public var confusion: [String: [String: Int]] {
        var table: [String: [String: Int]] = [:]
        for s in scores {
            for m in s.matches { table[m.trueClass, default: [:]][m.predicted, default: 0] += 1 }
        }
        return table
    }

    /// Localisation errors (metres) of the sources whose plume reached the drone, in winds
    /// within `windRange`, sorted; and how many such sources had no estimate at all.
    public func localisationErrors(windRange: ClosedRange<Double> = 0...100) -> (errors: [Double], missing: Int) {
        let all = scores.flatMap(\.localisation).filter { windRange.contains($0.windSpeed) }
        return (all.compactMap(\.error).sorted(), all.filter { $0.error == nil }.count)
    }

    /// The same with each estimate paired with one source at most (``ScenarioScore/Localised/pairedError``):
    /// extra estimates near a source do not lower it, and a source whose nearest estimate
    /// is another's counts as one without.
    public func pairedLocalisationErrors(windRange: ClosedRange<Double> = 0...100) -> (errors: [Double], missing: Int) {
        let all = scores.flatMap(\.localisation).filter { windRange.contains($0.windSpeed) }
        return (all.compactMap(\.pairedError).sorted(), all.filter { $0.pairedError == nil }.count)
    }

    /// Sources localised over all flights, and those that are no true source's nearest:
    /// the localisation error counts only the nearest estimate of each true source, so
    /// spurious estimates would lower it for free; this says how many there are.
    public var estimates: Int { scores.reduce(0) { $0 + $1.estimates } }
    public var extraEstimates: Int { scores.reduce(0) { $0 + $1.extraEstimates } }

    /// The share of localised sources whose true position lies inside the 95 % radius.
    public var coverage95: Double {
        let all = scores.flatMap(\.localisation).filter { $0.error != nil }
        guard !all.isEmpty else { return .nan }
        return Double(all.filter { ($0.error ?? .infinity) <= ($0.radius95 ?? 0) }.count) / Double(all.count)
    }

    /// Geotag errors of all matched detections, sorted.
    public var geotagErrors: [Double] { scores.flatMap { $0.matches.compactMap(\.geotagError) }.sorted() }
}

/// Scores detection over simulated scenarios with ground truth.
public enum Evaluation {
    /// How far (seconds) outside an encounter a detection may lie and still be matched to
    /// it. Both are in inlet time, so only the sensors' residual lag and the evidence
    /// window separate them.
    public static let matchSlack = 5.0

    /// Simulates a scenario, writes the flight log the drone would have written, replays
    /// it (detections, geotags on the logged track, localisation with the logged wind) and
    /// scores the result against the truth.
    public static func score(
        scenario: Scenario, configuration: PayloadConfiguration, settings: LocalisationSettings = LocalisationSettings()
    ) throws -> (ScenarioScore, PlacedFlight) {
        let simulator = try FlightSimulator(
            scenario: scenario, channels: configuration.pipeline.channels, library: configuration.pipeline.library)
        let placed = PlacedFlight(scenario: scenario, flight: simulator.run())
        let directory = NSTemporaryDirectory() + "snuffel-evaluate-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/flight.ulg"
        _ = try SimulatedFlightLog.writeLog(placed, configuration: configuration, path: path)
        let result = try Replay.run(path: path)
        let located = Localisation.locate(result, settings: settings)
        var score = score(placed, detections: result.detections, geotags: result.geotags, library: configuration.pipeline.library)
        score.localisation = localisationErrors(placed, located: located)
        score.estimates = located.sources.count
        score.extraEstimates = extraEstimates(placed, located: located)
        return (score, placed)
    }

    /// Pairs sources with estimates one to one, the nearest pair first, then the nearest of
    /// those left, and so on.
    /// - Parameter distances: Per source, the distance to each estimate (all rows as long).
    /// - Returns: Per source, the distance to its estimate; nil for a source left without
    ///   (more sources than estimates).
    public static func pairNearestFirst(_ distances: [[Double]]) -> [Double?] {
        var pairs: [(distance: Double, source: Int, estimate: Int)] = []
        for (i, row) in distances.enumerated() {
            for (k, d) in row.enumerated() where d.isFinite { pairs.append((d, i, k)) }
        }
        var paired = [Double?](repeating: nil, count: distances.count)
        var used = Set<Int>()
        for p in pairs.sorted(by: { ($0.distance, $0.source, $0.estimate) < ($1.distance, $1.source, $1.estimate) })
        where paired[p.source] == nil && !used.contains(p.estimate) {
            paired[p.source] = p.distance
            used.insert(p.estimate)
        }
        return paired
    }

    /// How many of the sources localised are not the nearest estimate of any true source
    /// whose plume reached the drone: estimates that the localisation error, which scores
    /// each true source by its nearest estimate, does not see.
    public static func extraEstimates(_ placed: PlacedFlight, located: LocalisationResult) -> Int {
        let nearest = Set(distances(placed, located: located).metres.compactMap(nearestIndex))
        return located.sources.count - nearest.count
    }

    /// The sources whose plume reached the drone, and per source the distance from it to
    /// each source localised, metres.
    static func distances(_ placed: PlacedFlight, located: LocalisationResult) -> (sources: [TruthSource], metres: [[Double]]) {
        let met = Set(placed.flight.truth.encounters.map(\.sourceID))
        let sources = placed.flight.truth.sources.filter { met.contains($0.id) }
        return (sources, sources.map { source in
            let truth = placed.position(source.position)
            return located.sources.map { horizontalDistance($0.position, truth) }
        })
    }

    /// The index of the smallest distance in a row; nil for an empty row.
    static func nearestIndex(_ row: [Double]) -> Int? { row.indices.min { row[$0] < row[$1] } }

    /// For each source whose plume reached the drone, the distance to the nearest source
    /// localised (of any class: where a source is and what it is are scored apart), and
    /// whether that one was given the source's class.
    public static func localisationErrors(_ placed: PlacedFlight, located: LocalisationResult) -> [ScenarioScore.Localised] {
        let (sources, metres) = distances(placed, located: located)
        let paired = pairNearestFirst(metres)
        return sources.enumerated().map { i, source in
            let k = nearestIndex(metres[i])
            let nearest = k.map { located.sources[$0] }
            var out = ScenarioScore.Localised(
                source: source.id, signatureClass: source.signatureClass ?? "mixture",
                error: k.map { metres[i][$0] }, radius95: nearest?.radius95,
                estimatedClass: nearest?.signatureClass, windSpeed: placed.scenario.wind.speed, pairedError: paired[i])
            if let nearest {
                // The wind blows FROM `fromDegrees`: downwind is the opposite bearing.
                let from = placed.scenario.wind.fromDegrees * .pi / 180
                let ux = -sin(from), uy = -cos(from)
                let e = placed.plane.offset(of: nearest.position)
                let dx = e.east - source.position.east, dy = e.north - source.position.north
                out.downwind = dx * ux + dy * uy
                out.crosswind = -dx * uy + dy * ux
            }
            return out
        }
    }

    /// Scores detections of a simulated flight against its truth.
    public static func score(
        _ placed: PlacedFlight, detections: [Detection], geotags: [Result<Geotag, GeotagFailure>], library: SignatureLibrary
    ) -> ScenarioScore {
        let truth = placed.flight.truth
        let sources = Dictionary(truth.sources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let slack = UInt64(matchSlack * 1e6)
        var matches: [ScenarioScore.Match] = []
        var detectedEncounters = Set<Int>()
        var alertedSources = Set<String>()
        var falseAlarms = 0
        for (d, tag) in zip(detections, geotags) {
            // The encounter behind the detection: among those overlapping it (with slack), one
            // of the class it names if there is one (plumes mix: a dump next to a manure pit),
            // else the one with the highest peak.
            let predicted = d.signatureClass.map { library.classes[$0].id } ?? "unknown"
            var best: Int?
            func rank(_ e: Encounter) -> Double {
                (sources[e.sourceID]?.signatureClass == predicted ? 1e12 : 0) + e.peakPPM
            }
            for (k, e) in truth.encounters.enumerated() where d.onset <= e.end &+ slack && d.end &+ slack >= e.start {
                if best.map({ rank(truth.encounters[$0]) < rank(e) }) ?? true { best = k }
            }
            var source: String?
            var trueClass = "none"
            var error: Double?
            if let best {
                let e = truth.encounters[best]
                detectedEncounters.insert(best)
                source = e.sourceID
                trueClass = sources[e.sourceID].map { $0.signatureClass ?? "mixture" } ?? "none"
                // The geotag is where the air of the detection's peak entered the inlet: compare
                // it with the encounter whose peak is nearest in time (a long event may span
                // several passes through plumes).
                if case .success(let g) = tag {
                    let nearest = truth.encounters.filter { d.onset <= $0.end &+ slack && d.end &+ slack >= $0.start }
                        .min { $0.peakTime.distance(to: d.peak).magnitude < $1.peakTime.distance(to: d.peak).magnitude } ?? e
                    error = horizontalDistance(g.position, placed.position(nearest.truePositionAtPeak))
                }
            }
            let isLab = source.flatMap { sources[$0] }.map { !$0.isConfounder } ?? false
            if d.isAlert {
                if isLab, let source { alertedSources.insert(source) } else { falseAlarms += 1 }
            }
            matches.append(.init(detection: d, predicted: predicted, source: source, trueClass: trueClass, geotagError: error))
        }
        let encountered = Set(truth.encounters.map(\.sourceID))
        let labs = truth.sources.filter { !$0.isConfounder && encountered.contains($0.id) }.map(\.id)
        let confounders = truth.sources.filter { $0.isConfounder && encountered.contains($0.id) }.map(\.id)
        let flight = placed.flight
        let seconds = flight.samples.last.map { Double($0.time &- flight.monotonicStart) / 1e6 } ?? 0
        return ScenarioScore(
            scenario: placed.scenario.name, flightSeconds: seconds, encounteredLabs: labs,
            detectedLabs: labs.filter { alertedSources.contains($0) }, encounteredConfounders: confounders,
            encounters: truth.encounters.count, detectedEncounters: detectedEncounters.count, falseAlarms: falseAlarms,
            matches: matches)
    }
}
