import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGeo
import SnuffelGround
import SnuffelWire

/// The result of a replay, as a table for people or as JSON for programs.
struct ReplayReport {
    let result: ReplayResult
    let located: LocalisationResult

    var config: PayloadConfiguration { result.configuration }
    var library: SignatureLibrary { config.pipeline.library }
    var channels: [ChannelSpec] { config.pipeline.channels }
    var detections: [Detection] { result.detections }
    var health: PipelineHealth { result.health }

    func className(_ d: Detection) -> String { result.className(d) }

    /// A time as shown: UTC when known, else the drone's clock in seconds.
    func shown(_ time: UInt64) -> String {
        if let u = result.utc(time) { return timeOfDay(u) }
        return pad(String(format: "t+%.1fs", Double(time) / 1e6), 14)
    }

    var origin: String {
        switch result.configurationOrigin {
        case .recorded: return "recorded in the log"
        case .file(let path): return path
        }
    }

    func text() -> String {
        var out: [String] = []
        let span = result.firstTime.map { Double(result.lastTime - $0) / 1e6 } ?? 0
        out.append("snuffel replay: \(result.path) (\(result.format == .ulog ? "flight log" : "CSV"))")
        if let scenario = result.info[SnuffelLogKey.scenario] { out.append("simulated flight, scenario \(scenario)") }
        out.append("payload \(config.payload.name): \(channels.count) channels; signatures: \(library.compounds.count) compounds, \(library.classes.count) classes; configuration \(origin)")
        var read = "read \(result.samples) samples over \(formatDuration(span))"
        if let first = result.firstTime, let u = result.utc(first) { read += " from \(utc(u)) UTC" }
        if result.track.points.isEmpty {
            read += "; no positions (detections are not geotagged)"
        } else {
            read += String(format: "; %d positions, %.0f m flown", result.track.points.count, result.track.length)
        }
        out.append(read)
        out += autopilotLines()
        var problems: [String] = []
        if health.nonFinite > 0 { problems.append("\(health.nonFinite) not finite") }
        if health.outOfRange > 0 { problems.append("\(health.outOfRange) out of the sensor's range") }
        if health.outOfOrder > 0 { problems.append("\(health.outOfOrder) out of time order") }
        if health.duplicate > 0 { problems.append("\(health.duplicate) duplicate timestamps") }
        if health.unknownChannel > 0 { problems.append("\(health.unknownChannel) for unknown channels") }
        out.append(problems.isEmpty ? "rejected samples: none" : "rejected samples: " + problems.joined(separator: ", "))
        if !result.badRows.isEmpty {
            out.append("skipped \(result.badRows.count) bad rows; first: \(result.badRows[0])")
        }
        if result.backwardRows > 0 { out.append("\(result.backwardRows) rows went back in time") }
        if result.truncatedBytes > 0 {
            out.append("the log is cut short: the last \(result.truncatedBytes) bytes did not form a whole message (read up to the last complete one)")
        }
        if health.gaps > 0 { out.append("\(health.gaps) silences longer than stale_after_s (filters restarted)") }
        if health.humidityArtefacts > 0 {
            out.append("\(health.humidityArtefacts) MOX-only events during humidity changes set aside as humidity artefacts")
        }
        if health.truncatedEvents > 0 { out.append("\(health.truncatedEvents) events cut at max_event_s") }
        switch result.agreement {
        case .nothingRecorded: break
        case .same(let n): out.append("in flight: the same \(n) detection\(n == 1 ? "" : "s") as this replay")
        case .different(let what): out.append("in flight: \(result.recordedDetections.count) detections, which differ from this replay: \(what)")
        }
        out.append("")
        if detections.isEmpty {
            out.append("no detections")
            return out.joined(separator: "\n")
        }
        let alerts = detections.filter(\.isAlert).count
        out.append("\(detections.count) detections, \(alerts) alert\(alerts == 1 ? "" : "s"):")
        out.append("")
        out.append("  #  " + pad(result.utcOffset == nil ? "peak (drone)" : "peak (UTC)", 14) + "     dur  " + pad("class", 22)
            + "  conf  p(lab)  alert  where the air entered the inlet (lat, lon ± 1σ)")
        for (d, tag) in zip(detections, result.geotags) {
            let duration = Double(d.end - d.onset) / 1e6
            let cls = className(d) + (d.isConfounder ? " (confounder)" : "")
            let place: String
            switch tag {
            case .success(let g): place = String(format: "%.6f, %.6f ± %.0f m", g.position.latitude, g.position.longitude, g.uncertainty)
            case .failure(let why): place = result.track.points.isEmpty ? "-" : "\(why)"
            }
            out.append(String(format: "%3d", d.sequence) + "  " + shown(d.peak) + "  "
                + String(format: "%5.1fs", duration) + "  " + pad(cls, 22) + "  " + String(format: "%.2f", d.confidence)
                + "  " + String(format: "%.2f", d.threatConfidence) + "    " + (d.isAlert ? "ALERT" : "     ") + "  " + place)
            let compounds = d.compounds.sorted { $0.meanPPM > $1.meanPPM }.prefix(4)
                .map { "\(library.compounds[$0.compound].id) \(formatPPM($0.meanPPM))" }.joined(separator: ", ")
            out.append("       compounds (mean ppm): " + (compounds.isEmpty ? "-" : compounds) + String(format: "; fit %.2f", 1 - d.residual))
            let seen = d.channels.filter(\.hit).map { "\(channels[$0.channel].id) \(Int($0.peakSigma.rounded()))σ" }
            let missing = d.channels.filter { $0.coverage < 0.5 }.map { channels[$0.channel].id }
            var line = "       seen by " + (seen.isEmpty ? "-" : seen.joined(separator: ", "))
            if !missing.isEmpty { line += "; no data from " + missing.joined(separator: ", ") }
            let saturated = d.channels.filter { $0.rejectedInWindow > 0 }.map { channels[$0.channel].id }
            if !saturated.isEmpty { line += "; out of range on " + saturated.joined(separator: ", ") }
            if d.scores.count > 1 {
                let runnerUp = d.scores[1]
                line += "; next best \(library.classes[runnerUp.signatureClass].id) (fit " + String(format: "%.2f", 1 - runnerUp.misfit) + ")"
            }
            out.append(line)
        }
        out.append("")
        out.append(contentsOf: sourcesText())
        if !result.tubes.isEmpty {
            out.append("")
            out.append(contentsOf: tubesText())
        }
        let events = result.messages.filter { $0.level <= 4 }
        if !events.isEmpty {
            out.append("")
            out.append("the daemon said (warnings and worse):")
            for m in events.prefix(20) { out.append("  " + (result.utc(m.time).map { String(isoTime($0).dropFirst(11).prefix(10)) } ?? "\(m.time) µs") + "  " + m.text) }
            if events.count > 20 { out.append("  ... and \(events.count - 20) more (snuffel replay --json lists them)") }
        }
        return out.joined(separator: "\n")
    }

    /// The evidence samples, for the laboratory: tube, when, where, why.
    func tubesText() -> [String] {
        var out = ["evidence samples (sorbent tubes) for the laboratory:"]
        for t in result.tubes {
            let when = result.utc(t.start).map(isoTime) ?? "\(t.start) µs (no UTC)"
            let minutes = Double(t.end &- t.start) / 1e6
            let place = t.latitude.isFinite ? String(format: "%.6f, %.6f", t.latitude, t.longitude) : "position unknown"
            let why = t.reason == .operatorRequest ? "the operator asked" : "detection #\(t.detection.map(String.init) ?? "?")"
            out.append("  tube \(t.tube)  from \(when) for \(String(format: "%.0f", minutes)) s\(t.isComplete ? "" : " (cut short)")  at \(place);  \(why)")
        }
        return out
    }

    func sourcesText() -> [String] {
        guard located.note == nil || !located.sources.isEmpty else { return ["sources: not localised (\(located.note ?? ""))"] }
        var out = ["where the sources most likely are (wind from \(located.windOrigin)):"]
        for s in located.sources {
            out.append("  " + pad(s.signatureClass + (s.isConfounder ? " (confounder)" : ""), 26)
                + String(format: "%.6f, %.6f  50 %% within %.0f m, 95 %% within %.0f m;  p(lab) %.2f;  from detections ",
                         s.position.latitude, s.position.longitude, s.radius50, s.radius95, s.labConfidence)
                + s.detections.map(String.init).joined(separator: ", "))
        }
        return out
    }

    func json() throws -> String {
        struct Output: Encodable {
            var detections: [DetectionOut]
            var sources: [SourceOut]
            var tubes: [TubeOut]
            var messages: [MessageOut]
            var flight: Flight
        }
        struct TubeOut: Encodable {
            var tube: Int
            var start_us: UInt64
            var end_us: UInt64
            var start_utc: String?
            var lat: Double?
            var lon: Double?
            var alt_m: Double?
            var detection: Int?
            var reason: String
            var complete: Bool
        }
        struct MessageOut: Encodable {
            var time_us: UInt64
            var utc: String?
            var level: Int
            var text: String
        }
        struct SourceOut: Encodable {
            var lat: Double
            var lon: Double
            var `class`: String
            var confounder: Bool
            var confidence: Double
            var lab_or_dump_confidence: Double
            var radius50_m: Double
            var radius95_m: Double
            var detections: [Int]
            var hit_seconds: Int
        }
        struct Flight: Encodable {
            var file: String
            var format: String
            var payload: String
            var configuration: String
            var scenario: String?
            var records: Int
            var samples: Int
            var start_us: UInt64?
            var end_us: UInt64?
            var start_utc: String?
            var duration_s: Double
            var clock: String
            var positions: Int
            var track_length_m: Double
            var rejected: [String: Int]
            var skipped_rows: [String]
            var truncated_bytes: Int
            var humidity_artefacts: Int
            var recorded_detections: Int
            var agrees_with_flight: Bool?
            var wind: String
            var localisation_note: String?
            var autopilot: AutopilotOut?
        }
        struct DetectionOut: Encodable {
            var sequence: Int
            var onset_us: UInt64
            var peak_us: UInt64
            var end_us: UInt64
            var peak_utc: String?
            var `class`: String
            var confidence: Double
            var lab_or_dump_confidence: Double
            var alert: Bool
            var confounder: Bool
            var lat: Double?
            var lon: Double?
            var alt_m: Double?
            var uncertainty_m: Double?
            var geotag_error: String?
            var residual: Double
            var snr: Double
            var compounds: [String: CompoundOut]
            var channels: [ChannelOut]
            var scores: [ScoreOut]
        }
        struct CompoundOut: Encodable { var dose_ppm_s: Double; var mean_ppm: Double }
        struct ChannelOut: Encodable {
            var id: String; var hit: Bool; var peak_excess: Double; var peak_sigma: Double; var area: Double
            var coverage: Double; var rejected_in_window: Int
        }
        struct ScoreOut: Encodable { var `class`: String; var misfit: Double }
        let agrees: Bool?
        switch result.agreement {
        case .nothingRecorded: agrees = nil
        case .same: agrees = true
        case .different: agrees = false
        }
        let first = result.firstTime
        let out = Output(
            detections: zip(detections, result.geotags).map { d, tag in
                var compounds: [String: CompoundOut] = [:]
                for c in d.compounds { compounds[library.compounds[c.compound].id] = CompoundOut(dose_ppm_s: c.dose, mean_ppm: c.meanPPM) }
                let g = try? tag.get()
                var failure: String?
                if case .failure(let why) = tag { failure = "\(why)" }
                return DetectionOut(
                    sequence: d.sequence, onset_us: result.shownTime(d.onset), peak_us: result.shownTime(d.peak),
                    end_us: result.shownTime(d.end), peak_utc: result.utc(d.peak).map(isoTime),
                    class: className(d), confidence: d.confidence, lab_or_dump_confidence: d.threatConfidence,
                    alert: d.isAlert, confounder: d.isConfounder,
                    lat: g?.position.latitude, lon: g?.position.longitude, alt_m: g?.position.altitude,
                    uncertainty_m: g?.uncertainty, geotag_error: failure,
                    residual: d.residual, snr: d.snr, compounds: compounds,
                    channels: d.channels.map {
                        ChannelOut(id: channels[$0.channel].id, hit: $0.hit, peak_excess: $0.peakExcess, peak_sigma: $0.peakSigma,
                                   area: $0.area, coverage: $0.coverage, rejected_in_window: $0.rejectedInWindow)
                    },
                    scores: d.scores.map { ScoreOut(class: library.classes[$0.signatureClass].id, misfit: $0.misfit) })
            },
            sources: located.sources.map {
                SourceOut(lat: $0.position.latitude, lon: $0.position.longitude, class: $0.signatureClass, confounder: $0.isConfounder,
                          confidence: $0.confidence, lab_or_dump_confidence: $0.labConfidence, radius50_m: $0.radius50,
                          radius95_m: $0.radius95, detections: $0.detections, hit_seconds: $0.hitSeconds)
            },
            tubes: result.tubes.map { t in
                TubeOut(
                    tube: Int(t.tube), start_us: result.shownTime(t.start), end_us: result.shownTime(t.end),
                    start_utc: result.utc(t.start).map(isoTime), lat: t.latitude.isFinite ? t.latitude : nil,
                    lon: t.longitude.isFinite ? t.longitude : nil, alt_m: t.altitude.isFinite ? Double(t.altitude) : nil,
                    detection: t.detection, reason: t.reason == .operatorRequest ? "operator" : "detection", complete: t.isComplete)
            },
            messages: result.messages.map {
                MessageOut(time_us: result.shownTime($0.time), utc: result.utc($0.time).map(isoTime), level: Int($0.level), text: $0.text)
            },
            flight: Flight(
                file: result.path, format: result.format.rawValue, payload: config.payload.name, configuration: origin,
                scenario: result.info[SnuffelLogKey.scenario], records: result.records, samples: result.samples,
                start_us: first.map(result.shownTime), end_us: first.map { _ in result.shownTime(result.lastTime) },
                start_utc: first.flatMap(result.utc).map(isoTime),
                duration_s: first.map { Double(result.lastTime - $0) / 1e6 } ?? 0,
                clock: result.utcOffset == nil ? "drone (no UTC mapping in the log)" : "utc",
                positions: result.track.points.count, track_length_m: result.track.length,
                rejected: ["not_finite": health.nonFinite, "out_of_range": health.outOfRange, "out_of_order": health.outOfOrder,
                           "duplicate": health.duplicate, "unknown_channel": health.unknownChannel],
                skipped_rows: result.badRows.map(\.description), truncated_bytes: result.truncatedBytes,
                humidity_artefacts: health.humidityArtefacts, recorded_detections: result.recordedDetections.count,
                agrees_with_flight: agrees, wind: located.windOrigin, localisation_note: located.note,
                autopilot: autopilotJSON()))
        return try prettyJSON(out)
    }
}

/// The autopilot log's part of `--json`: `flight.autopilot`.
struct AutopilotOut: Encodable {
    struct Alignment: Encodable {
        var source: String
        var messages: Int
        var boot_to_utc_offset_us: Int64
        var spread_us: Int64

        init(_ a: AutopilotClockAlignment) {
            source = a.source
            messages = a.messages
            boot_to_utc_offset_us = a.offset
            spread_us = a.spread
        }
    }
    var file: String
    var format: String
    var positions: Int
    var position_source: String
    var replaced_positions: Int
    var attitudes: Int
    var wind: Int
    var alignment: Alignment?
    /// Reboots of the autopilot during its log, and each boot's alignment (the first is `alignment`).
    var reboots: Int
    var boot_alignments: [Alignment]
    var sensor_to_autopilot_offset_us: Int64?
    var dropped_bytes: Int
    var truncated_bytes: Int
    var first_problem: String?
}

extension ReplayReport {
    /// Add this to the sensor data's clock to get the autopilot's boot clock, µs.
    var sensorToAutopilot: Int64? {
        guard let a = result.autopilot?.alignment, let s = result.utcOffset else { return nil }
        return s &- a.offset
    }

    func autopilotLines() -> [String] {
        guard let log = result.autopilot else { return [] }
        var lines = [
            "autopilot: \(log.path) (\(log.format.title)): \(result.track.points.count) positions from \(log.positionSource) "
                + "replace the input's own \(result.ownPositions) for geotagging; \(log.attitudes.count) attitudes, "
                + "\(result.wind.count) wind estimates kept"
        ]
        if let a = log.alignment {
            var line = "alignment: autopilot boot clock + " + String(format: "%.3f s", Double(a.offset) / 1e6)
                + " = UTC, from \(a.source), \(a.messages) messages, offset spread " + String(format: "%.0f ms", Double(a.spread) / 1e3)
            if let s = sensorToAutopilot {
                line += "; sensor clock + " + String(format: "%.3f s", Double(s) / 1e6) + " = autopilot clock"
            }
            lines.append(line)
        }
        if log.reboots > 0 {
            lines.append("autopilot rebooted \(log.reboots) time\(log.reboots == 1 ? "" : "s") during its log: each boot's clock "
                + "aligned on its own (" + log.alignments.map { String(format: "%.3f s", Double($0.offset) / 1e6) + " from \($0.source)" }
                    .joined(separator: "; ") + ")")
        }
        if log.droppedBytes > 0 || log.truncatedBytes > 0 {
            lines.append("autopilot log: \(log.droppedBytes) bytes skipped, \(log.truncatedBytes) cut at the end"
                + (log.firstProblem.map { "; first problem at \($0)" } ?? ""))
        }
        return lines
    }

    func autopilotJSON() -> AutopilotOut? {
        guard let log = result.autopilot else { return nil }
        return AutopilotOut(
            file: log.path, format: log.format.rawValue, positions: result.track.points.count,
            position_source: log.positionSource, replaced_positions: result.ownPositions, attitudes: log.attitudes.count,
            wind: result.wind.count,
            alignment: log.alignment.map(AutopilotOut.Alignment.init),
            reboots: log.reboots, boot_alignments: log.alignments.map(AutopilotOut.Alignment.init),
            sensor_to_autopilot_offset_us: sensorToAutopilot, dropped_bytes: log.droppedBytes,
            truncated_bytes: log.truncatedBytes, first_problem: log.firstProblem)
    }
}

/// JSON for people and programs: indented, keys sorted, non-finite numbers as strings.
func prettyJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

func utc(_ microseconds: UInt64) -> String {
    let date = Date(timeIntervalSince1970: Double(microseconds) / 1e6)
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.S"
    return f.string(from: date)
}

func timeOfDay(_ microseconds: UInt64) -> String {
    String(utc(microseconds).dropFirst(11)).padding(toLength: 14, withPad: " ", startingAt: 0)
}

func formatDuration(_ seconds: Double) -> String {
    seconds < 120 ? String(format: "%.1f s", seconds) : String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60)
}

func formatPPM(_ ppm: Double) -> String {
    ppm >= 10 ? String(format: "%.0f", ppm) : ppm >= 0.1 ? String(format: "%.2f", ppm) : String(format: "%.3f", ppm)
}

func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}
