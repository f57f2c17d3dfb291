import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelWire

/// The result of a detection run, as a table for people or as JSON for programs.
struct DetectReport {
    let file: String
    let config: PayloadConfiguration
    let rows: Int
    let samples: Int
    let firstTime: UInt64?
    let lastTime: UInt64
    let health: PipelineHealth
    let badRows: [CSVError]
    let backwardRows: Int
    let detections: [Detection]

    var library: SignatureLibrary { config.pipeline.library }
    var channels: [ChannelSpec] { config.pipeline.channels }

    func className(_ d: Detection) -> String {
        d.signatureClass.map { library.classes[$0].id } ?? "unknown"
    }

    func text() -> String {
        var out: [String] = []
        let span = firstTime.map { Double(lastTime - $0) / 1e6 } ?? 0
        out.append("snuffel detect: \(file)")
        out.append("payload \(config.payload.name): \(channels.count) channels; signatures: \(library.compounds.count) compounds, \(library.classes.count) classes")
        out.append("read \(rows) rows, \(samples) samples over \(formatDuration(span))"
            + (firstTime.map { " from \(utc($0)) UTC" } ?? ""))
        var problems: [String] = []
        if health.nonFinite > 0 { problems.append("\(health.nonFinite) not finite") }
        if health.outOfRange > 0 { problems.append("\(health.outOfRange) out of the sensor's range") }
        if health.outOfOrder > 0 { problems.append("\(health.outOfOrder) out of time order") }
        if health.duplicate > 0 { problems.append("\(health.duplicate) duplicate timestamps") }
        if health.unknownChannel > 0 { problems.append("\(health.unknownChannel) for unknown channels") }
        out.append(problems.isEmpty ? "rejected samples: none" : "rejected samples: " + problems.joined(separator: ", "))
        if !badRows.isEmpty {
            out.append("skipped \(badRows.count) bad rows; first: \(badRows[0])")
        }
        if backwardRows > 0 { out.append("\(backwardRows) rows went back in time") }
        if health.gaps > 0 { out.append("\(health.gaps) silences longer than stale_after_s (filters restarted)") }
        if health.humidityArtefacts > 0 {
            out.append("\(health.humidityArtefacts) MOX-only events during humidity changes set aside as humidity artefacts")
        }
        if health.truncatedEvents > 0 { out.append("\(health.truncatedEvents) events cut at max_event_s") }
        out.append("")
        if detections.isEmpty {
            out.append("no detections")
            return out.joined(separator: "\n")
        }
        let alerts = detections.filter(\.isAlert).count
        out.append("\(detections.count) detections, \(alerts) alert\(alerts == 1 ? "" : "s"):")
        out.append("")
        out.append("  #  onset (UTC)     dur   class                   conf  p(lab) alert  fit   compounds (mean ppm over the hit)")
        for d in detections {
            let duration = Double(d.end - d.onset) / 1e6
            let compounds = d.compounds.sorted { $0.meanPPM > $1.meanPPM }.prefix(4)
                .map { "\(library.compounds[$0.compound].id) \(formatPPM($0.meanPPM))" }.joined(separator: ", ")
            let cls = className(d) + (d.isConfounder ? " (confounder)" : "")
            out.append(String(format: "%3d", d.sequence) + "  " + timeOfDay(d.onset) + "  "
                + String(format: "%5.1fs", duration) + "  " + pad(cls, 22) + "  " + String(format: "%.2f", d.confidence)
                + "  " + String(format: "%.2f", d.threatConfidence) + "  " + (d.isAlert ? "ALERT" : "     ") + "  " + String(format: "%.2f", 1 - d.residual) + "  "
                + (compounds.isEmpty ? "-" : compounds))
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
        return out.joined(separator: "\n")
    }

    func json() throws -> String {
        struct Output: Encodable {
            var file: String
            var payload: String
            var rows: Int
            var samples: Int
            var first_time_us: UInt64?
            var last_time_us: UInt64
            var rejected: [String: Int]
            var skipped_rows: [String]
            var humidity_artefacts: Int
            var detections: [DetectionOut]
        }
        struct DetectionOut: Encodable {
            var sequence: Int
            var onset_us: UInt64
            var onset_utc: String
            var peak_us: UInt64
            var end_us: UInt64
            var `class`: String
            var confidence: Double
            var lab_or_dump_confidence: Double
            var alert: Bool
            var confounder: Bool
            var residual: Double
            var snr: Double
            var compounds: [CompoundOut]
            var channels: [ChannelOut]
            var scores: [ScoreOut]
        }
        struct CompoundOut: Encodable { var id: String; var dose_ppm_s: Double; var mean_ppm: Double }
        struct ChannelOut: Encodable {
            var id: String; var hit: Bool; var peak_excess: Double; var peak_sigma: Double; var area: Double
            var coverage: Double; var rejected_in_window: Int
        }
        struct ScoreOut: Encodable { var `class`: String; var misfit: Double }
        let out = Output(
            file: file, payload: config.payload.name, rows: rows, samples: samples, first_time_us: firstTime,
            last_time_us: lastTime,
            rejected: ["not_finite": health.nonFinite, "out_of_range": health.outOfRange, "out_of_order": health.outOfOrder,
                       "duplicate": health.duplicate, "unknown_channel": health.unknownChannel],
            skipped_rows: badRows.map(\.description), humidity_artefacts: health.humidityArtefacts,
            detections: detections.map { d in
                DetectionOut(
                    sequence: d.sequence, onset_us: d.onset, onset_utc: utc(d.onset) + "Z", peak_us: d.peak, end_us: d.end,
                    class: className(d), confidence: d.confidence, lab_or_dump_confidence: d.threatConfidence, alert: d.isAlert, confounder: d.isConfounder,
                    residual: d.residual, snr: d.snr,
                    compounds: d.compounds.map { CompoundOut(id: library.compounds[$0.compound].id, dose_ppm_s: $0.dose, mean_ppm: $0.meanPPM) },
                    channels: d.channels.map {
                        ChannelOut(id: channels[$0.channel].id, hit: $0.hit, peak_excess: $0.peakExcess, peak_sigma: $0.peakSigma,
                                   area: $0.area, coverage: $0.coverage, rejected_in_window: $0.rejectedInWindow)
                    },
                    scores: d.scores.map { ScoreOut(class: library.classes[$0.signatureClass].id, misfit: $0.misfit) })
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(out), as: UTF8.self)
    }
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
