import Foundation
import SnuffelCore
import SnuffelGeo

/// A replayed flight as the report and the review page show it: everything placed on one
/// local tangent plane (metres east and north of an origin) and on one time axis (seconds
/// from the first sample), in plain values that encode to JSON.
///
/// `snuffel report` draws it as inline SVG; `snuffel review` sends it to the page, whose
/// script draws the same picture. Texts in it came from the log: escape them when shown.
public struct FlightView: Codable, Sendable {
    /// A point of the drone's track.
    public struct TrackPoint: Codable, Sendable, Equatable {
        /// Seconds from ``FlightView/startTime``.
        public var t: Double
        public var east: Double
        public var north: Double
        /// The largest signal of the fastest gas channels during that second (σ), what the
        /// track is coloured by.
        public var sigma: Double
    }

    /// A compound behind a detection, with its mean concentration.
    public struct Compound: Codable, Sendable, Equatable {
        public var id: String
        public var ppm: Double
    }

    /// A channel that saw a detection.
    public struct Evidence: Codable, Sendable, Equatable {
        public var channel: String
        public var peakSigma: Double
        public var hit: Bool
        /// The share of the detection's window the channel had data for (0...1).
        public var coverage: Double
    }

    /// A detection with its evidence and where the air entered the inlet.
    public struct DetectionItem: Codable, Sendable, Equatable {
        public var sequence: Int
        public var signatureClass: String
        public var isConfounder: Bool
        public var isAlert: Bool
        public var confidence: Double
        /// Confidence that it is a lab or dump, not a confounder.
        public var labConfidence: Double
        /// Seconds from ``FlightView/startTime``.
        public var onset: Double
        public var peak: Double
        public var end: Double
        /// The peak in UTC (ISO 8601), when the log maps its clock to UTC.
        public var peakUTC: String?
        public var east: Double?
        public var north: Double?
        public var latitude: Double?
        public var longitude: Double?
        /// 1σ metres.
        public var uncertainty: Double?
        /// Why there is no position, when so.
        public var noPosition: String?
        public var compounds: [Compound]
        public var evidence: [Evidence]
        /// How well the class's model fits (1 − residual).
        public var fit: Double
        public var snr: Double
        /// The runner-up class and its fit, when there is one.
        public var nextBest: String?
    }

    /// A localised source with its 50 % and 95 % areas (circles of those radii).
    public struct SourceItem: Codable, Sendable, Equatable {
        public var signatureClass: String
        public var isConfounder: Bool
        public var east: Double
        public var north: Double
        public var latitude: Double
        public var longitude: Double
        public var radius50: Double
        public var radius95: Double
        public var confidence: Double
        public var labConfidence: Double
        public var detections: [Int]
    }

    /// A cell of the gas distribution map (south-west corner, side, mean signal σ, confidence).
    public struct GasCell: Codable, Sendable, Equatable {
        public var east: Double
        public var north: Double
        public var size: Double
        public var mean: Double
        public var confidence: Double
    }

    /// A gas channel over the flight, one value a second from ``FlightView/startTime``.
    public struct Series: Codable, Sendable, Equatable {
        public var channel: String
        public var unit: String
        /// The raw reading (mean over the second), nil where the channel had no sample.
        public var raw: [Double?]
        /// The processed signal: the largest fast-response-recovered excess in noise units (σ).
        public var sigma: [Double]
    }

    /// A sorbent-tube (or other) evidence sample taken during the flight.
    ///
    /// The daemon's `snuffel_tube` records (``ReplayResult/tubes``), for the laboratory. An
    /// empty list is reported as "none taken".
    public struct EvidenceSample: Codable, Sendable, Equatable {
        public var label: String
        /// Seconds from ``FlightView/startTime``.
        public var start: Double
        public var end: Double
        public var latitude: Double?
        public var longitude: Double?
        public var note: String

        public init(label: String, start: Double, end: Double, latitude: Double? = nil, longitude: Double? = nil, note: String = "") {
            self.label = label
            self.start = start
            self.end = end
            self.latitude = latitude
            self.longitude = longitude
            self.note = note
        }
    }

    /// The file's name (not its directory).
    public var logName: String
    public var format: String
    /// The first sample's time, µs on the drone's clock, and in UTC (ISO 8601) when known.
    public var startTime: UInt64
    public var startUTC: String?
    public var durationSeconds: Double
    public var samples: Int
    /// The tangent plane's origin.
    public var originLatitude: Double
    public var originLongitude: Double
    public var hasPositions: Bool
    public var track: [[TrackPoint]]
    public var trackLength: Double
    public var detections: [DetectionItem]
    public var sources: [SourceItem]
    /// Why no source was localised, when so.
    public var sourcesNote: String?
    public var wind: String
    public var gasMap: [GasCell]
    public var series: [Series]
    /// The hit thresholds of the processed signal (σ): a hit starts above `hitOn` and ends
    /// below `hitOff`.
    public var hitOnSigma: Double
    public var hitOffSigma: Double
    public var payloadName: String
    /// Where the configuration came from: "recorded in the log" or a file.
    public var configurationOrigin: String
    /// Whether the replay agrees with the detections made in flight, in words.
    public var agreement: String
    /// Problems met while reading (cut log, rejected samples), in words.
    public var problems: [String]
    public var evidenceSamples: [EvidenceSample]
}

extension FlightView {
    /// The most track points kept (evenly thinned beyond that): enough for a drawn line.
    static let maximumTrackPoints = 3000

    /// Builds the view of a replay.
    /// - Parameters:
    ///   - result: The replay.
    ///   - located: Its sources.
    ///   - series: The channels over time, when recorded during the replay (see ``SeriesRecorder``).
    public init(result: ReplayResult, located: LocalisationResult, series recorder: SeriesRecorder? = nil) {
        let start = result.firstTime ?? result.track.points.first?.time ?? 0
        func seconds(_ t: UInt64) -> Double { (Double(t) - Double(start)) / 1e6 }
        let plane = located.plane ?? result.track.points.first.map { LocalTangentPlane(origin: $0.position) }
            ?? LocalTangentPlane(origin: GeoPosition(latitude: 0, longitude: 0, altitude: 0))
        logName = URL(fileURLWithPath: result.path).lastPathComponent
        format = result.format == .ulog ? "Snuffel flight log (ULog)" : "CSV"
        startTime = start
        startUTC = result.utc(start).map(isoTime)
        durationSeconds = result.firstTime.map { Double(result.lastTime - $0) / 1e6 } ?? 0
        samples = result.samples
        originLatitude = plane.origin.latitude
        originLongitude = plane.origin.longitude
        hasPositions = !result.track.points.isEmpty
        trackLength = result.track.length
        let activity = result.activity
        func sigma(at t: UInt64) -> Double {
            guard let a = activity.start, t >= a else { return 0 }
            let i = Int((t - a) / 1_000_000)
            return i < activity.sigma.count ? activity.sigma[i] : 0
        }
        let stride = max(1, result.track.points.count / Self.maximumTrackPoints)
        track = result.trackStretches().map { stretch in
            stretch.enumerated().compactMap { k, p in
                guard k % stride == 0 || k == stretch.count - 1 else { return nil }
                let o = plane.offset(of: p.position)
                return TrackPoint(t: seconds(p.time), east: o.east, north: o.north, sigma: sigma(at: p.time))
            }
        }
        let library = result.configuration.pipeline.library
        let channels = result.configuration.pipeline.channels
        detections = zip(result.detections, result.geotags).map { d, tag in
            var item = DetectionItem(
                sequence: d.sequence, signatureClass: result.className(d), isConfounder: d.isConfounder, isAlert: d.isAlert,
                confidence: d.confidence, labConfidence: d.threatConfidence, onset: seconds(d.onset), peak: seconds(d.peak),
                end: seconds(d.end), peakUTC: result.utc(d.peak).map(isoTime),
                compounds: d.compounds.sorted { $0.meanPPM > $1.meanPPM }.map { Compound(id: library.compounds[$0.compound].id, ppm: $0.meanPPM) },
                evidence: d.channels.map {
                    Evidence(channel: $0.channel < channels.count ? channels[$0.channel].id : "channel \($0.channel)",
                             peakSigma: $0.peakSigma, hit: $0.hit, coverage: $0.coverage)
                },
                fit: 1 - d.residual, snr: d.snr,
                nextBest: d.scores.count > 1 ? library.classes[d.scores[1].signatureClass].id : nil)
            switch tag {
            case .success(let g):
                let o = plane.offset(of: g.position)
                item.east = o.east
                item.north = o.north
                item.latitude = g.position.latitude
                item.longitude = g.position.longitude
                item.uncertainty = g.uncertainty
            case .failure(let why):
                item.noPosition = result.track.points.isEmpty ? "the log has no positions" : "\(why)"
            }
            return item
        }
        sources = located.sources.map { s in
            let o = plane.offset(of: s.position)
            return SourceItem(
                signatureClass: s.signatureClass, isConfounder: s.isConfounder, east: o.east, north: o.north,
                latitude: s.position.latitude, longitude: s.position.longitude, radius50: s.radius50, radius95: s.radius95,
                confidence: s.confidence, labConfidence: s.labConfidence, detections: s.detections)
        }
        sourcesNote = located.sources.isEmpty ? (located.note ?? "no source found") : nil
        if let w = located.wind {
            let speed = (w.east * w.east + w.north * w.north).squareRoot()
            var from = atan2(-w.east, -w.north) * 180 / .pi
            if from < 0 { from += 360 }
            wind = String(format: "%.1f m/s from %.0f° (%@)", speed, from, located.windOrigin)
        } else {
            wind = "unknown"
        }
        var cells: [GasCell] = []
        if let (map, mapPlane) = result.gasMap(located) {
            // The map is on the localisation's plane, or on the first position's: the same
            // origin as ours either way; shift when not.
            let shift = plane.offset(of: mapPlane.origin)
            for row in 0..<map.rows {
                for column in 0..<map.columns {
                    let k = row * map.columns + column
                    guard map.confidence[k] >= 0.3 else { continue }
                    cells.append(GasCell(
                        east: map.originEast + Double(column) * map.cellSize + shift.east,
                        north: map.originNorth + Double(row) * map.cellSize + shift.north,
                        size: map.cellSize, mean: map.mean[k], confidence: map.confidence[k]))
                }
            }
        }
        gasMap = cells
        series = recorder?.series() ?? []
        hitOnSigma = result.configuration.pipeline.detection.hitOnSigma
        hitOffSigma = result.configuration.pipeline.detection.hitOffSigma
        payloadName = result.configuration.payload.name
        switch result.configurationOrigin {
        case .recorded: configurationOrigin = "recorded in the log"
        case .file(let path): configurationOrigin = "from \(path)"
        }
        switch result.agreement {
        case .nothingRecorded: agreement = "the log records no detections made in flight"
        case .same(let n): agreement = "the same \(n) detection\(n == 1 ? "" : "s") as made in flight"
        case .different(let what): agreement = "differs from the \(result.recordedDetections.count) detections made in flight: \(what)"
        }
        var problems: [String] = []
        let health = result.health
        if result.truncatedBytes > 0 { problems.append("the log is cut short: the last \(result.truncatedBytes) bytes are not a whole message") }
        if health.nonFinite > 0 { problems.append("\(health.nonFinite) samples not finite") }
        if health.outOfRange > 0 { problems.append("\(health.outOfRange) samples out of the sensor's range") }
        if health.outOfOrder > 0 { problems.append("\(health.outOfOrder) samples out of time order") }
        if health.gaps > 0 { problems.append("\(health.gaps) silences longer than stale_after_s") }
        if !result.badRows.isEmpty { problems.append("\(result.badRows.count) bad CSV rows skipped") }
        self.problems = problems
        evidenceSamples = result.tubes.map { tube in
            var note = tube.reason == .operatorRequest ? "the operator asked" : "for detection #\(tube.detection.map(String.init) ?? "?")"
            if let utc = result.utc(tube.start) { note += "; from \(isoTime(utc)) UTC" }
            if !tube.isComplete { note += "; cut short" }
            return EvidenceSample(
                label: "tube \(tube.tube)", start: seconds(tube.start), end: seconds(tube.end),
                latitude: tube.latitude.isFinite ? tube.latitude : nil, longitude: tube.longitude.isFinite ? tube.longitude : nil,
                note: note)
        }
    }

    /// The view as JSON (for the review page).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(self)
    }
}

/// Records each gas channel's raw reading and processed signal, a value a second, while a
/// replay runs (pass ``record(_:pipeline:)`` as the replay's `observe`).
public final class SeriesRecorder {
    let channels: [ChannelSpec]
    var origin: UInt64?
    var rawSum: [[Double]]
    var rawCount: [[Int]]
    var sigma: [[Double]]
    /// A plot, not a store: two days at most.
    static let maximumSeconds = 48 * 3600

    public init(channels: [ChannelSpec]) {
        self.channels = channels
        rawSum = Array(repeating: [], count: channels.count)
        rawCount = Array(repeating: [], count: channels.count)
        sigma = Array(repeating: [], count: channels.count)
    }

    /// Notes a sample after the pipeline has taken it.
    public func record(_ sample: Sample, pipeline: Pipeline) {
        let c = Int(sample.channel)
        guard c < channels.count, channels[c].kind.isGas, sample.value.isFinite else { return }
        if origin == nil { origin = sample.time - sample.time % 1_000_000 }
        guard let origin, sample.time >= origin else { return }
        let second = Int((sample.time - origin) / 1_000_000)
        guard second < Self.maximumSeconds else { return }
        if rawSum[c].count <= second {
            let more = second + 1 - rawSum[c].count
            rawSum[c].append(contentsOf: repeatElement(0, count: more))
            rawCount[c].append(contentsOf: repeatElement(0, count: more))
            sigma[c].append(contentsOf: repeatElement(0, count: more))
        }
        rawSum[c][second] += sample.value
        rawCount[c][second] += 1
        if let snap = pipeline.snapshot(channel: c), snap.time == sample.time, snap.sigma.isFinite {
            sigma[c][second] = max(sigma[c][second], snap.sigma)
        }
    }

    /// The gas channels' series, one value a second (the first second is the whole second
    /// holding the first sample, so within a second of ``FlightView/startTime``).
    func series() -> [FlightView.Series] {
        guard origin != nil else { return [] }
        let length = rawSum.map(\.count).max() ?? 0
        return channels.indices.filter { channels[$0].kind.isGas }.map { c in
            var raw = [Double?](repeating: nil, count: length)
            var sig = [Double](repeating: 0, count: length)
            for s in rawSum[c].indices {
                if rawCount[c][s] > 0 { raw[s] = rawSum[c][s] / Double(rawCount[c][s]) }
                sig[s] = sigma[c][s]
            }
            return FlightView.Series(channel: channels[c].id, unit: channels[c].unit, raw: raw, sigma: sig)
        }
    }
}

extension FlightView {
    /// Replays a flight log, localises its sources and builds its view, recording the
    /// channels' series on the way.
    /// - Parameters:
    ///   - path: The flight log (or CSV file).
    ///   - options: As for ``Replay/run(path:options:progress:observe:)``.
    ///   - progress: Called now and then with the fraction read.
    /// - Throws: ``ReplayError`` naming the file and what is wrong with it.
    public static func replay(
        path: String, options: ReplayOptions, progress: ((Double) -> Void)? = nil
    ) throws(ReplayError) -> (result: ReplayResult, located: LocalisationResult, view: FlightView) {
        var recorder: SeriesRecorder?
        let result = try Replay.run(path: path, options: options, progress: progress) { sample, pipeline in
            if recorder == nil { recorder = SeriesRecorder(channels: pipeline.configuration.channels) }
            recorder?.record(sample, pipeline: pipeline)
        }
        let located = Localisation.locate(result)
        return (result, located, FlightView(result: result, located: located, series: recorder))
    }
}
