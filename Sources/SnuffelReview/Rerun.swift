import Foundation
import SnuffelCore
import SnuffelGround

/// Runs blocking work (a replay, a socket, a browser) on a thread of its own and awaits it:
/// off Swift's cooperative pool, whose few threads the app's request handlers need.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// Re-running detection over a flight with other settings, and what changed.
enum Rerun {
    /// The settings a reviewer may change from the page (nil keeps the flight's own).
    struct Settings: Codable, Sendable {
        var hitOnSigma: Double?
        var hitOffSigma: Double?
        var minChannels: Int?
        var alertConfidence: Double?
    }

    /// A detection of either run and what became of it.
    struct Change: Codable, Sendable {
        /// "same", "changed", "new" (only in the re-run) or "gone" (only in the original).
        var status: String
        var before: FlightView.DetectionItem?
        var after: FlightView.DetectionItem?
        var what: String
    }

    struct Outcome: Codable, Sendable {
        var settings: Settings
        var before: Int
        var after: Int
        var changes: [Change]
    }

    /// A setting that cannot be used.
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// Replays the flight with its configuration changed by `settings` and matches the
    /// detections of both runs by overlapping time spans.
    static func run(_ flight: ReviewedFlight, settings: Settings) throws -> Outcome {
        var configuration = flight.result.configuration
        var detection = configuration.pipeline.detection
        if let v = settings.hitOnSigma {
            guard v.isFinite, v > 0, v <= 1000 else { throw Refused(description: "hitOnSigma must be between 0 and 1000") }
            detection.hitOnSigma = v
        }
        if let v = settings.hitOffSigma {
            guard v.isFinite, v > 0, v <= 1000 else { throw Refused(description: "hitOffSigma must be between 0 and 1000") }
            detection.hitOffSigma = v
        }
        guard detection.hitOffSigma < detection.hitOnSigma else {
            throw Refused(description: "hitOffSigma must be below hitOnSigma")
        }
        if let v = settings.minChannels {
            guard v >= 1, v <= max(1, configuration.pipeline.channels.count) else {
                throw Refused(description: "minChannels must be between 1 and the number of channels")
            }
            detection.minChannels = v
        }
        if let v = settings.alertConfidence {
            guard v.isFinite, v >= 0, v <= 1 else { throw Refused(description: "alertConfidence must be between 0 and 1") }
            detection.alertConfidence = v
        }
        configuration.pipeline.detection = detection
        var options = ReplayOptions(configuration: configuration)
        options.autopilotPath = nil
        let (_, _, view) = try FlightView.replay(path: flight.path, options: options)
        let applied = Settings(
            hitOnSigma: detection.hitOnSigma, hitOffSigma: detection.hitOffSigma, minChannels: detection.minChannels,
            alertConfidence: detection.alertConfidence)
        return Outcome(settings: applied, before: flight.view.detections.count, after: view.detections.count,
                       changes: compare(flight.view.detections, view.detections))
    }

    /// Pairs detections whose spans overlap (each at most once, in time order).
    static func compare(_ before: [FlightView.DetectionItem], _ after: [FlightView.DetectionItem]) -> [Change] {
        var changes: [Change] = []
        var used = Set<Int>()
        for b in before {
            guard let k = after.indices.first(where: { !used.contains($0) && after[$0].onset <= b.end && b.onset <= after[$0].end }) else {
                changes.append(Change(status: "gone", before: b, after: nil, what: "no longer detected"))
                continue
            }
            used.insert(k)
            let a = after[k]
            var what: [String] = []
            if a.signatureClass != b.signatureClass { what.append("class \(b.signatureClass) → \(a.signatureClass)") }
            if a.isAlert != b.isAlert { what.append(a.isAlert ? "now an alert" : "no longer an alert") }
            if abs(a.confidence - b.confidence) >= 0.01 { what.append(String(format: "confidence %.2f → %.2f", b.confidence, a.confidence)) }
            if abs(a.onset - b.onset) >= 0.5 || abs(a.end - b.end) >= 0.5 { what.append(String(format: "span %.1f–%.1f s → %.1f–%.1f s", b.onset, b.end, a.onset, a.end)) }
            changes.append(Change(status: what.isEmpty ? "same" : "changed", before: b, after: a, what: what.joined(separator: "; ")))
        }
        for (k, a) in after.enumerated() where !used.contains(k) {
            changes.append(Change(status: "new", before: nil, after: a, what: "only with these settings"))
        }
        return changes.sorted { ($0.before?.onset ?? $0.after?.onset ?? 0) < ($1.before?.onset ?? $1.after?.onset ?? 0) }
    }
}
