import Foundation
import SnuffelConfig

/// What the file of a flight log is, for the report: its SHA-256 and what checking its
/// signature said.
public struct LogIntegrity: Sendable, Equatable {
    /// The outcome of checking the log's hash chain and signatures.
    public enum Signature: Sendable, Equatable {
        /// No checkpoints and no public key: written unsigned.
        case notSigned
        /// Every byte vouched for; the text says by which key and up to when.
        case intact(String)
        /// Cut short: valid up to the time in the text.
        case truncated(String)
        /// Changed: where and how.
        case altered(String)
        /// Signed by another key than the one given.
        case wrongKey(String)
    }

    /// The SHA-256 of the whole file, hexadecimal.
    public var sha256: String
    public var byteCount: Int
    public var signature: Signature

    public init(sha256: String, byteCount: Int, signature: Signature) {
        self.sha256 = sha256
        self.byteCount = byteCount
        self.signature = signature
    }

    /// The verdict's headline: "not signed", "intact", "truncated", "ALTERED", "signed with another key".
    public var headline: String {
        switch signature {
        case .notSigned: return "not signed"
        case .intact: return "intact"
        case .truncated: return "truncated"
        case .altered: return "ALTERED"
        case .wrongKey: return "signed with another key"
        }
    }

    /// The verdict's detail.
    public var detail: String {
        switch signature {
        case .notSigned: return "the log has no checkpoints and records no public key: nothing proves who wrote it"
        case .intact(let s), .truncated(let s), .altered(let s), .wrongKey(let s): return s
        }
    }
}

/// A reviewer's judgement of a detection.
public struct ReviewMark: Codable, Sendable, Equatable {
    /// The judgements a reviewer can give.
    public enum Verdict: String, Codable, Sendable, CaseIterable {
        case confirmed, rejected, unsure
    }

    public var sequence: Int
    public var verdict: Verdict
    public var note: String
    /// Who marked it (the reviewer's name as given to `snuffel review`).
    public var reviewer: String
    /// When, ISO 8601 UTC.
    public var time: String

    public init(sequence: Int, verdict: Verdict, note: String, reviewer: String, time: String) {
        self.sequence = sequence
        self.verdict = verdict
        self.note = note
        self.reviewer = reviewer
        self.time = time
    }
}

/// One change of a mark, as the review store's audit trail records it.
public struct ReviewAuditEntry: Codable, Sendable, Equatable {
    /// When, ISO 8601 UTC, and who.
    public var time: String
    public var reviewer: String
    /// The detection's sequence number.
    public var sequence: Int
    /// The verdict and note before (nil for the first mark) and after.
    public var oldVerdict: String?
    public var newVerdict: String
    public var oldNote: String?
    public var newNote: String

    public init(time: String, reviewer: String, sequence: Int, oldVerdict: String?, newVerdict: String, oldNote: String?, newNote: String) {
        self.time = time
        self.reviewer = reviewer
        self.sequence = sequence
        self.oldVerdict = oldVerdict
        self.newVerdict = newVerdict
        self.oldNote = oldNote
        self.newNote = newNote
    }
}

/// The report of a flight: one HTML file that opens without a network, with the map and
/// plots as inline SVG.
public struct FlightReport: Sendable {
    public var view: FlightView
    public var integrity: LogIntegrity
    /// The configuration the replay used (its files are quoted).
    public var configuration: PayloadConfiguration
    /// The current mark of each detection (by sequence number).
    public var marks: [Int: ReviewMark]
    /// Every change of a mark, oldest first.
    public var audit: [ReviewAuditEntry]
    /// When the report was made, ISO 8601 UTC.
    public var generated: String

    public init(
        view: FlightView, integrity: LogIntegrity, configuration: PayloadConfiguration, marks: [Int: ReviewMark],
        audit: [ReviewAuditEntry] = [], generated: String
    ) {
        self.view = view
        self.integrity = integrity
        self.configuration = configuration
        self.marks = marks
        self.audit = audit
        self.generated = generated
    }

    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#222;line-height:1.4}
        h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:1px solid #ccc;padding-bottom:2px;margin-top:1.6em}
        table{border-collapse:collapse;width:100%;font-size:.9em}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
        th{background:#f0f0f0}.alert{color:#b00;font-weight:bold}.intact{color:#070;font-weight:bold}.bad{color:#b00;font-weight:bold}
        .muted{color:#666}pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:.8em;white-space:pre-wrap}
        code{word-break:break-all}svg{max-width:100%;height:auto}.legend span{display:inline-block;width:14px;height:8px;margin:0 4px 0 12px}
        @media print{body{margin:0;max-width:none}h2{break-after:avoid}tr,svg{break-inside:avoid}}
        """

    /// The whole report.
    public func html() -> String {
        let v = view
        func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
        func e(_ s: String) -> String { escapeHTML(s) }
        var h = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Snuffel flight report: \(e(v.logName))</title>
            <style>\(Self.style)</style></head><body>
            <h1>Flight report: \(e(v.logName))</h1>
            <p class="muted">Made by snuffel report on \(e(generated)).</p>

            """
        // Summary.
        let alerts = v.detections.filter(\.isAlert).count
        let signatureClass: String
        switch integrity.signature {
        case .intact: signatureClass = "intact"
        case .notSigned: signatureClass = ""
        default: signatureClass = "bad"
        }
        h += """
            <h2 id="summary">Flight summary</h2>
            <table class="summary">
            <tr><th>log</th><td>\(e(v.logName)) (\(e(v.format)), \(integrity.byteCount) bytes)</td></tr>
            <tr><th>SHA-256</th><td><code id="sha256">\(integrity.sha256)</code></td></tr>
            <tr><th>signature</th><td id="signature"><span class="\(signatureClass)">\(e(integrity.headline))</span>: \(e(integrity.detail))</td></tr>
            <tr><th>start</th><td>\(e(v.startUTC.map { $0 + " UTC" } ?? "not known in UTC (the log has no clock record)"))</td></tr>
            <tr><th>duration</th><td>\(f(v.durationSeconds, 1)) s, \(v.samples) samples</td></tr>
            <tr><th>positions</th><td>\(v.hasPositions ? "track of \(f(v.trackLength, 0)) m" : "none: detections are not geotagged")</td></tr>
            <tr><th>wind</th><td>\(e(v.wind))</td></tr>
            <tr><th>detections</th><td>\(v.detections.count), \(alerts) alert\(alerts == 1 ? "" : "s"); \(marks.count) reviewed</td></tr>
            <tr><th>in flight</th><td>\(e(v.agreement))</td></tr>
            <tr><th>problems</th><td>\(v.problems.isEmpty ? "none" : v.problems.map(e).joined(separator: "<br>"))</td></tr>
            </table>

            """
        // Map and plots.
        h += """
            <h2 id="map-section">Map</h2>
            <p class="muted">Track coloured by the strongest fast gas signal (grey-blue quiet, green, yellow, orange, red at and above the hit threshold of \(f(v.hitOnSigma, 0)) σ);
            detections numbered (the faint ring is the 1σ uncertainty of where the air entered the inlet);
            sources with their 50 % (filled) and 95 % (dashed) areas; the gas distribution map shaded orange.
            Red: lab or dump; blue: confounder. The grid's spacing is the scale bar's length; north is up.
            Origin \(f(v.originLatitude, 6)), \(f(v.originLongitude, 6)).</p>
            \(FlightSVG.map(v, width: 1000))
            <h2 id="plot-section">Signals over time</h2>
            \(FlightSVG.plot(v, width: 1000))

            """
        // Detections.
        h += ##"<h2 id="detections">Detections</h2>"##
        if v.detections.isEmpty {
            h += "<p>No detections.</p>\n"
        } else {
            h += """
                <table class="detections"><tr><th>#</th><th>peak</th><th>class</th><th>confidence</th><th>p(lab)</th>\
                <th>where the air entered the inlet</th><th>evidence</th><th>review</th></tr>

                """
            for d in v.detections {
                let when = d.peakUTC.map { $0 + " UTC" } ?? "t+\(f(d.peak, 1)) s"
                let place = d.latitude.map { lat in
                    "\(f(lat, 6)), \(f(d.longitude ?? 0, 6)) ± \(f(d.uncertainty ?? 0, 0)) m"
                } ?? e(d.noPosition ?? "-")
                var evidence = "compounds (mean ppm): "
                    + (d.compounds.isEmpty ? "-" : d.compounds.prefix(5).map { "\(e($0.id)) \(f($0.ppm, 3))" }.joined(separator: ", "))
                let seen = d.evidence.filter(\.hit).map { "\(e($0.channel)) \(f($0.peakSigma, 0)) σ" }
                evidence += "<br>seen by: " + (seen.isEmpty ? "-" : seen.joined(separator: ", "))
                evidence += "<br>fit \(f(d.fit)), SNR \(f(d.snr, 1)), \(f(d.end - d.onset, 1)) s long"
                if let next = d.nextBest { evidence += "; next best \(e(next))" }
                let review = marks[d.sequence].map { m in
                    "<b>\(m.verdict.rawValue)</b> by \(e(m.reviewer)) on \(e(m.time))" + (m.note.isEmpty ? "" : ": \(e(m.note))")
                } ?? "<span class=\"muted\">not reviewed</span>"
                h += """
                    <tr class="detection" data-seq="\(d.sequence)"><td>\(d.sequence)</td><td>\(e(when))</td>\
                    <td class="\(d.isAlert ? "alert" : "")">\(e(d.signatureClass))\(d.isConfounder ? " (confounder)" : "")\(d.isAlert ? " ALERT" : "")</td>\
                    <td>\(f(d.confidence))</td><td>\(f(d.labConfidence))</td><td>\(place)</td><td>\(evidence)</td><td>\(review)</td></tr>

                    """
            }
            h += "</table>\n"
        }
        // Sources.
        h += ##"<h2 id="sources">Sources</h2>"##
        if let note = v.sourcesNote {
            h += "<p>No source localised: \(e(note)).</p>\n"
        } else {
            h += "<table class=\"sources\"><tr><th>#</th><th>class</th><th>most likely at</th><th>50 % area</th><th>95 % area</th><th>confidence</th><th>p(lab)</th><th>detections</th></tr>\n"
            for (k, s) in v.sources.enumerated() {
                h += """
                    <tr><td>\(k + 1)</td><td>\(e(s.signatureClass))\(s.isConfounder ? " (confounder)" : "")</td><td>\(f(s.latitude, 6)), \(f(s.longitude, 6))</td>\
                    <td>within \(f(s.radius50, 0)) m</td><td>within \(f(s.radius95, 0)) m</td><td>\(f(s.confidence))</td><td>\(f(s.labConfidence))</td>\
                    <td>\(s.detections.map(String.init).joined(separator: ", "))</td></tr>

                    """
            }
            h += "</table>\n"
        }
        // Who judged what, and every change since.
        h += ##"<h2 id="review-audit">Review audit trail</h2>"##
        if audit.isEmpty {
            h += "<p>No detection has been reviewed (with <code>snuffel review</code>).</p>\n"
        } else {
            h += "<table class=\"audit\"><tr><th>when (UTC)</th><th>who</th><th>#</th><th>verdict</th><th>note</th></tr>\n"
            for a in audit {
                let note = a.oldNote.map { $0 == a.newNote ? e(a.newNote) : "\(e($0)) → \(e(a.newNote))" } ?? e(a.newNote)
                h += "<tr><td>\(e(a.time))</td><td>\(e(a.reviewer))</td><td>\(a.sequence)</td>"
                    + "<td>\(e(a.oldVerdict ?? "–")) → \(e(a.newVerdict))</td><td>\(note)</td></tr>\n"
            }
            h += "</table>\n"
        }
        // Evidence samples (sorbent tubes): see FlightView.EvidenceSample.
        h += ##"<h2 id="evidence-samples">Evidence samples (sorbent tubes)</h2>"##
        if v.evidenceSamples.isEmpty {
            h += "<p>None taken: the log records no evidence samples.</p>\n"
        } else {
            h += "<table class=\"samples\"><tr><th>sample</th><th>from</th><th>to</th><th>where</th><th>note</th></tr>\n"
            for s in v.evidenceSamples {
                let place = s.latitude.map { "\(f($0, 6)), \(f(s.longitude ?? 0, 6))" } ?? "-"
                h += "<tr><td>\(e(s.label))</td><td>t+\(f(s.start, 1)) s</td><td>t+\(f(s.end, 1)) s</td><td>\(place)</td><td>\(e(s.note))</td></tr>\n"
            }
            h += "</table>\n"
        }
        // Settings and calibration.
        h += """
            <h2 id="settings">Settings and calibration used</h2>
            <p>Payload \(e(v.payloadName)); configuration \(e(v.configurationOrigin)).</p>
            <h3>Payload configuration (\(e(configuration.payloadFile.path)))</h3><pre>\(e(configuration.payloadFile.text))</pre>

            """
        for name in configuration.calibrationFiles.keys.sorted() {
            if let file = configuration.calibrationFiles[name] {
                h += "<h3>Calibration \(e(name)) (\(e(file.path)))</h3><pre>\(e(file.text))</pre>\n"
            }
        }
        h += "<h3>Signature library (\(e(configuration.signaturesFile.path)))</h3><pre>\(e(configuration.signaturesFile.text))</pre>\n"
        h += "</body></html>\n"
        return h
    }
}
