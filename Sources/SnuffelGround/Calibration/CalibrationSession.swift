import Foundation
import SnuffelConfig
import SnuffelCore

/// A calibration that could not be made: which file, what in it (a step, a channel, a
/// key) and why.
public struct CalibrationError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    /// What is at fault: `steps[3] (isobutylene 10 ppm, 450–600 s)`, `channel 'pid'`, ...
    public var subject: String
    public var reason: String

    public init(file: String, subject: String, reason: String) {
        self.file = file
        self.subject = subject
        self.reason = reason
    }

    public var description: String { subject.isEmpty ? "\(file): \(reason)" : "\(file): \(subject): \(reason)" }
}

/// The raw samples of a calibration session, channel by channel, and the payload they came
/// from.
public struct CalibrationSession: Sendable {
    /// The session file (flight log or CSV), for messages.
    public var path: String
    public var channels: [ChannelSpec]
    public var library: SignatureLibrary
    /// Per channel: sample times in seconds from the session's first sample.
    public var times: [[Double]]
    /// Per channel: raw values, same order as `times`.
    public var values: [[Double]]
    /// The first sample's time, µs on the log's clock.
    public var start: UInt64

    /// A session from samples in memory.
    /// - Parameters:
    ///   - samples: Raw samples; channel indices into `channels`; others are ignored.
    public init(path: String, channels: [ChannelSpec], library: SignatureLibrary, samples: [Sample]) {
        self.path = path
        self.channels = channels
        self.library = library
        start = samples.map(\.time).min() ?? 0
        times = Array(repeating: [], count: channels.count)
        values = Array(repeating: [], count: channels.count)
        for s in samples.sorted(by: { $0.time < $1.time }) where Int(s.channel) < channels.count && s.value.isFinite {
            times[Int(s.channel)].append(Double(s.time - start) / 1e6)
            values[Int(s.channel)].append(s.value)
        }
    }

    /// Reads a session: a Snuffel flight log (.ulg) or a CSV file, by the readers
    /// `snuffel replay` uses.
    /// - Parameters:
    ///   - configuration: The payload the samples belong to; required for CSV, and replaces
    ///     the configuration recorded in a flight log.
    public static func load(path: String, configuration: PayloadConfiguration?) throws(CalibrationError) -> CalibrationSession {
        final class Collector: @unchecked Sendable {  // used on this thread only, during the replay
            var samples: [Sample] = []
        }
        let collector = Collector()
        let result: ReplayResult
        do {
            result = try Replay.run(
                path: path, options: ReplayOptions(configuration: configuration), progress: nil,
                observe: { sample, _ in collector.samples.append(sample) })
        } catch {
            throw CalibrationError(file: error.path, subject: "", reason: error.reason)
        }
        guard !collector.samples.isEmpty else { throw CalibrationError(file: path, subject: "", reason: "the session holds no samples") }
        return CalibrationSession(
            path: path, channels: result.configuration.pipeline.channels, library: result.configuration.pipeline.library,
            samples: collector.samples)
    }

    /// The index of a channel by id.
    public func channelIndex(_ id: String) -> Int? { channels.firstIndex { $0.id == id } }

    /// Seconds from the first to the last sample of any channel.
    public var duration: Double { times.compactMap(\.last).max() ?? 0 }

    /// The mean physical value of the first channel of `kind` over `[t0, t1)`, if the
    /// payload has one and it has samples there.
    func mean(of kind: ChannelKind, from t0: Double, before t1: Double) -> Double? {
        guard let c = channels.firstIndex(where: { $0.kind == kind }) else { return nil }
        let cal = channels[c].calibration
        var sum = 0.0, n = 0
        for (t, v) in zip(times[c], values[c]) where t >= t0 && t < t1 {
            sum += (v - cal.offset) * cal.gain
            n += 1
        }
        return n > 0 ? sum / Double(n) : nil
    }
}

/// One step's steady value on one channel, in the fit's response domain.
struct StepLevel: Sendable {
    var step: CalibrationSteps.Step
    var mean: Double
    var variance: Double
    var count: Int
    /// °C and g/m³ over the plateau; NaN when the payload has no such channel.
    var temperature: Double
    var absoluteHumidity: Double

    /// The pooled standard deviation of the readings within the steps.
    static func pooledSD(_ levels: [StepLevel]) -> Double {
        var pooled = 0.0, freedom = 0
        for l in levels where l.count > 1 {
            pooled += l.variance * Double(l.count - 1)
            freedom += l.count - 1
        }
        return freedom > 0 ? (pooled / Double(freedom)).squareRoot() : 0
    }
}

/// How a channel's raw values map to the domain its calibration model is linear in.
enum ResponseDomain {
    /// The natural logarithm of the sensing layer's resistance (MOX kinds), neper.
    case logResistance
    /// The raw value itself (PID, electrochemical).
    case raw

    init(_ kind: ChannelKind) { self = kind.isMOX ? .logResistance : .raw }

    /// The domain value of a raw reading; nil when it has none (a resistance ≤ 0).
    /// SRAW ticks are proportional to log-resistance with the configured gain (neper per
    /// tick, a property of the chip); ln Rs = raw × gain + constant for both pixels.
    static func value(_ raw: Double, channel: ChannelSpec) -> Double? {
        switch channel.kind {
        case .moxResistance: return raw > 0 ? log(raw) : nil
        case .srawVOC, .srawNOx: return raw * channel.calibration.gain
        default: return raw
        }
    }
}

extension CalibrationSession {
    /// The steady level of each step on a channel.
    ///
    /// - Throws: ``CalibrationError`` when a step lies outside the channel's data, has fewer
    ///   than 3 samples in its plateau, or the sensor was saturated (a reading at or beyond
    ///   `valid_min`/`valid_max`) in it.
    func levels(channel c: Int, steps: CalibrationSteps) throws(CalibrationError) -> [StepLevel] {
        let spec = channels[c]
        let ts = times[c], vs = values[c]
        guard let first = ts.first, let last = ts.last else {
            throw CalibrationError(file: path, subject: "channel '\(spec.id)'", reason: "the session has no samples of this channel")
        }
        let period = spec.rateHz > 0 ? 1 / spec.rateHz : 1
        var levels: [StepLevel] = []
        for step in steps.steps {
            if step.start < first - 2 * period || step.end > last + 2 * period {
                throw CalibrationError(
                    file: steps.file, subject: step.label,
                    reason: "the step lies outside the session's data: channel '\(spec.id)' has samples from \(Self.seconds(first)) to \(Self.seconds(last)) s of \(path) (step times are seconds from the session's first sample)")
            }
            let plateauStart = step.end - steps.plateauFraction * (step.end - step.start)
            var sum = 0.0, sumSquares = 0.0, n = 0, saturated = 0
            var limit = ""
            for (t, raw) in zip(ts, vs) where t >= plateauStart && t < step.end {  // the reading at the end belongs to the next step
                if raw >= spec.validMax { saturated += 1; limit = "valid_max = \(spec.validMax)" }
                if raw <= spec.validMin { saturated += 1; limit = "valid_min = \(spec.validMin)" }
                guard let v = ResponseDomain.value(raw, channel: spec) else { continue }
                sum += v
                sumSquares += v * v
                n += 1
            }
            if saturated > 0 {
                throw CalibrationError(
                    file: steps.file, subject: step.label,
                    reason: "channel '\(spec.id)' is saturated: \(saturated) of its readings in the step's plateau are at or beyond \(limit) (\(spec.unit.isEmpty ? "raw units" : spec.unit)); use a lower concentration or leave the step out")
            }
            guard n >= 3 else {
                throw CalibrationError(
                    file: steps.file, subject: step.label,
                    reason: "channel '\(spec.id)' has \(n) readings in the step's plateau (its last \(Int((steps.plateauFraction * 100).rounded())) %); at least 3 are needed: make the step longer")
            }
            let mean = sum / Double(n)
            let variance = max(0, (sumSquares - Double(n) * mean * mean) / Double(n - 1))
            let temperature = self.mean(of: .temperature, from: plateauStart, before: step.end) ?? .nan
            let humidity = self.mean(of: .humidity, from: plateauStart, before: step.end) ?? .nan
            let absolute = temperature.isFinite && humidity.isFinite
                ? Pipeline.absoluteHumidity(temperature: temperature, relativeHumidity: humidity) : .nan
            levels.append(StepLevel(step: step, mean: mean, variance: variance, count: n, temperature: temperature, absoluteHumidity: absolute))
        }
        return levels
    }

    static func seconds(_ v: Double) -> String {
        let rounded = (v * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
