import Foundation
import SnuffelConfig
import SnuffelCore

/// A quick field check before a flight (`snuffel calibrate bump`): the payload breathes
/// clean air, then a known concentration of a test gas; each channel that should respond
/// must read the response its calibration and the signature library predict, within a
/// tolerance.
public struct BumpTest: Sendable {
    public enum Status: Sendable, Equatable {
        case pass
        case fail
        /// The channel is not expected to respond to the gas; why.
        case notTested(String)
    }

    public struct Row: Sendable {
        public var channel: String
        public var kind: ChannelKind
        /// Physical units (see ``ChannelKind``).
        public var unit: String
        public var expected: Double
        public var measured: Double
        public var baseline: Double
        public var status: Status
        /// The readings, physical units, for the plot: (seconds, value).
        public var trace: [(Double, Double)]

        public var deviationPercent: Double? { expected != 0 ? 100 * (measured - expected) / abs(expected) : nil }
    }

    public var gas: String
    public var ppm: Double
    public var tolerancePercent: Double
    public var rows: [Row]

    /// Passed when every tested channel passed and at least one was tested.
    public var passed: Bool {
        rows.contains { $0.status == .pass } && !rows.contains { $0.status == .fail }
    }

    /// Runs the check on a recorded session.
    /// - Parameters:
    ///   - baselineSeconds: The clean air at the start of the log, seconds.
    ///   - tolerancePercent: The largest deviation from the expected response that passes
    ///     (30 % by default: Snuffel's own choice, not a standard's).
    /// - Throws: ``CalibrationError`` when the gas is unknown, no channel should respond to
    ///   it, or the log is too short.
    public static func run(
        session: CalibrationSession, gas: String, ppm: Double, tolerancePercent: Double = 30, baselineSeconds: Double = 20
    ) throws(CalibrationError) -> BumpTest {
        let compound = session.library.compounds.first { $0.id == gas }
        if compound == nil && gas != CalibrationFitter.isobutylene {
            throw CalibrationError(
                file: session.path, subject: "--gas \(gas)",
                reason: "unknown test gas: use isobutylene or a compound of the signature library (\(session.library.compounds.map(\.id).joined(separator: ", ")))")
        }
        var rows: [Row] = []
        for (c, spec) in session.channels.enumerated() where spec.kind.isGas {
            let cal = spec.calibration
            var perPPM = (compound?.responses[spec.responseKey]?.perPPM ?? 0) * cal.sensitivity
            if spec.kind == .pid && gas == CalibrationFitter.isobutylene { perPPM = 1000 }
            let expected = spec.kind.isMOX ? cal.moxExponent * log(max(1e-9, 1 + perPPM * ppm)) : perPPM * ppm
            let trace = zip(session.times[c], session.values[c]).compactMap { t, raw in physical(raw, spec).map { (t, $0) } }
            let unit = spec.kind.isMOX ? "neper" : (spec.kind == .pid ? "ppb" : "ppm")
            let before = trace.filter { $0.0 < baselineSeconds }.map(\.1)
            guard before.count >= 3, trace.last.map({ $0.0 > baselineSeconds }) == true else {
                throw CalibrationError(
                    file: session.path, subject: "channel '\(spec.id)'",
                    reason: "\(before.count) readings in the first \(CalibrationSession.seconds(baselineSeconds)) s and none after: record at least \(CalibrationSession.seconds(baselineSeconds)) s of clean air, then the test gas (or change --baseline-s)")
            }
            let baseline = CalibrationFitter.median(before) ?? 0
            // The strongest response after the baseline, in the expected direction, of a
            // running median of five readings (robust to single spikes).
            let after = trace.filter { $0.0 >= baselineSeconds }.map(\.1)
            let direction: Double = expected < 0 ? -1 : 1
            var extreme = 0.0
            if after.count >= 5 {
                for k in 2..<(after.count - 2) {
                    let m = (CalibrationFitter.median(Array(after[(k - 2)...(k + 2)])) ?? 0) - baseline
                    if m * direction > extreme * direction { extreme = m }
                }
            }
            let status: Status
            if expected == 0 {
                status = .notTested("no response to \(gas) listed for \(spec.responseKey)")
            } else {
                status = abs(extreme - expected) <= tolerancePercent / 100 * abs(expected) ? .pass : .fail
            }
            rows.append(Row(channel: spec.id, kind: spec.kind, unit: unit, expected: expected, measured: extreme, baseline: baseline, status: status, trace: trace))
        }
        if !rows.contains(where: { $0.expected != 0 }) {
            throw CalibrationError(
                file: session.path, subject: "--gas \(gas)",
                reason: "no channel of the payload is expected to respond to \(gas) (the signature library lists no response on \(session.channels.filter(\.kind.isGas).map(\.responseKey).joined(separator: ", ")))")
        }
        return BumpTest(gas: gas, ppm: ppm, tolerancePercent: tolerancePercent, rows: rows)
    }

    /// A raw reading in the pipeline's physical units, without compensation (see
    /// ``ChannelKind`` for the formulas); nil for a resistance ≤ 0.
    static func physical(_ raw: Double, _ spec: ChannelSpec) -> Double? {
        let cal = spec.calibration
        switch spec.kind {
        case .srawVOC: return (cal.offset - raw) * cal.gain
        case .srawNOx: return (raw - cal.offset) * cal.gain
        case .moxResistance: return raw > 0 && cal.offset > 0 ? log(cal.offset / raw) : nil
        default: return (raw - cal.offset) * cal.gain
        }
    }

    /// The table for the terminal.
    public var table: String {
        func f(_ v: Double) -> String { CalibrationFitter.format(v) }
        var lines = ["bump test: \(f(ppm)) ppm \(gas), tolerance ±\(f(tolerancePercent)) %",
                     "  channel      expected        measured        deviation  result"]
        for r in rows {
            let result: String
            switch r.status {
            case .pass: result = "PASS"
            case .fail: result = "FAIL"
            case .notTested(let why): result = "not tested (\(why))"
            }
            let tested = r.status == .pass || r.status == .fail
            let deviation = tested ? r.deviationPercent.map { String(format: "%+.1f %%", $0) } ?? "" : ""
            let expected = tested ? f(r.expected) + " " + r.unit : "—", measured = tested ? f(r.measured) + " " + r.unit : "—"
            lines.append("  " + [r.channel.pad(12), expected.pad(15), measured.pad(15), deviation.pad(10), result].joined(separator: " "))
        }
        lines.append(passed ? "PASS" : "FAIL: \(rows.filter { $0.status == .fail }.map(\.channel).joined(separator: ", "))")
        return lines.joined(separator: "\n")
    }

    /// One panel per tested channel: the readings against time, the baseline plus the
    /// expected response and the tolerance band.
    public var plotPanels: [PlotPanel] {
        rows.filter { $0.status == .pass || $0.status == .fail }.map { r in
            let t0 = r.trace.first?.0 ?? 0, t1 = r.trace.last?.0 ?? 1
            let level = r.baseline + r.expected, band = tolerancePercent / 100 * abs(r.expected)
            return PlotPanel(
                title: "\(r.channel): \(r.status == .pass ? "PASS" : "FAIL") (\(CalibrationFitter.format(ppm)) ppm \(gas))",
                xLabel: "time from the start of the log (s)", yLabel: "reading (\(r.unit))",
                series: [
                    PlotSeries(name: "reading", style: .line(0), points: r.trace),
                    PlotSeries(name: "expected", style: .line(1), points: [(t0, level), (t1, level)]),
                    PlotSeries(name: "±\(CalibrationFitter.format(tolerancePercent)) %", style: .dashed(2), points: [(t0, level + band), (t1, level + band)]),
                    PlotSeries(name: "", style: .dashed(2), points: [(t0, level - band), (t1, level - band)]),
                    PlotSeries(name: "baseline", style: .dashed(7), points: [(t0, r.baseline), (t1, r.baseline)]),
                ],
                residuals: [PlotSeries(name: "reading − expected", style: .line(0), points: r.trace.filter { $0.0 > 0 }.map { ($0.0, $0.1 - level) })],
                residualLabel: "reading − expected (\(r.unit))")
        }
    }
}
