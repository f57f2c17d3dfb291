import Foundation
import SnuffelConfig
import SnuffelCore

/// The response of each gas channel to each compound of a multi-compound session, in the
/// units of the signature library (`snuffel calibrate matrix`).
///
/// Units are those of the library's `per_ppm` (see `calibration/signatures.toml`), for this
/// unit's calibration as configured, divided by its configured `sensitivity`:
/// - PID and electrochemical channels: the slope of the physical reading against
///   concentration, fitted by least squares to the compound's steps and the zero-air steps
///   (with a temperature term when the steps span 1 °C or more);
/// - MOX channels: the linearised response `u = exp(e/β) − 1` per ppm, where `e` is the
///   step's excess log-conductance over the zero-air step before it and β the
///   channel's configured `mox_exponent` — the quantity the pipeline compares with the
///   library; the median over the compound's steps, with the standard error of the mean.
///
/// A PID or cell response counts when it stands out of its uncertainty by 3σ; a MOX
/// response when some step moved the channel by more than 5 standard deviations of its
/// zero-air readings (the spread of the per-step values of a MOX response reflects how far
/// the sensor departs from the linearised model across concentrations, not noise, so it
/// is reported as the uncertainty but not used to judge). The others are left out of the
/// file (a response not listed is zero).
public struct SensitivityMatrix: Sendable {
    public struct Entry: Sendable, Equatable {
        public var compound: String
        public var channel: String
        /// The library key: `pid`, `ec_nh3`, `mox_resistance`, ...
        public var key: String
        public var perPPM: Double
        public var sd: Double
        public var steps: Int
        public var lowPPM: Double
        public var highPPM: Double
        public var significant: Bool
    }

    /// Points for the plot: per channel and compound, (ppm, response in library units).
    struct Trace: Sendable {
        var channel: String
        var compound: String
        var points: [(Double, Double)]
    }

    public var session: String
    public var compounds: [String]
    public var entries: [Entry]
    var traces: [Trace]

    public func entry(compound: String, channel: String) -> Entry? {
        entries.first { $0.compound == compound && $0.channel == channel }
    }

    /// Estimates the matrix.
    /// - Throws: ``CalibrationError`` for steps outside the data, saturated channels, too
    ///   few readings, or a session without zero-air steps.
    public static func estimate(session: CalibrationSession, steps: CalibrationSteps) throws(CalibrationError) -> SensitivityMatrix {
        var compounds: [String] = []
        for g in steps.steps.compactMap(\.gas) where !compounds.contains(g) { compounds.append(g) }
        guard steps.steps.contains(where: \.isBlank) else {
            throw CalibrationError(file: steps.file, subject: "steps", reason: "no zero-air step: responses are measured from zero air (gas = \"zero\")")
        }
        guard !compounds.isEmpty else { throw CalibrationError(file: steps.file, subject: "steps", reason: "the steps have no gas, only zero air") }
        var entries: [Entry] = []
        var traces: [Trace] = []
        for (c, spec) in session.channels.enumerated() where spec.kind.isGas {
            let levels = try session.levels(channel: c, steps: steps)
            let blanks = levels.filter(\.step.isBlank)
            let cal = spec.calibration
            let sensitivity = cal.sensitivity > 0 ? cal.sensitivity : 1
            let blankSD = StepLevel.pooledSD(blanks)
            for gas in compounds {
                let gasLevels = levels.filter { $0.step.gas == gas }
                let ppms = gasLevels.map(\.step.ppm)
                var perPPM = 0.0, sd = Double.infinity, significant = false
                var points: [(Double, Double)] = []
                if spec.kind.isMOX {
                    // Excess log-conductance (or log-resistance for the NOx pixel) over the
                    // nearest zero air, linearised with the configured exponent.
                    let s: Double = spec.kind == .srawNOx ? 1 : -1
                    var us: [Double] = []
                    var largest = 0.0
                    for l in gasLevels {
                        // The zero air just before the step (same climate), else the nearest.
                        guard let blank = blanks.last(where: { $0.step.start < l.step.start })
                            ?? blanks.min(by: { abs($0.step.start - l.step.start) < abs($1.step.start - l.step.start) }) else { continue }
                        let e = s * (l.mean - blank.mean)
                        largest = max(largest, abs(e))
                        let u = (exp(e / cal.moxExponent) - 1) / sensitivity
                        us.append(u / l.step.ppm)
                        points.append((l.step.ppm, u))
                    }
                    perPPM = CalibrationFitter.median(us) ?? 0
                    if us.count >= 2 {
                        let mean = us.reduce(0, +) / Double(us.count)
                        sd = (us.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(us.count - 1) / Double(us.count)).squareRoot()
                    }
                    significant = largest > 5 * blankSD && perPPM != 0
                } else {
                    let used = blanks + gasLevels
                    let useT = CalibrationFitter.spread(used.map(\.temperature)) >= 1
                    let rows = used.map { l -> [Double] in
                        [1, l.step.ppm] + (useT ? [l.temperature - cal.referenceTemperature] : [])
                    }
                    if case .success(let fit) = LinearLeastSquares.fit(rows: rows, y: used.map(\.mean)) {
                        perPPM = fit.coefficients[1] * cal.gain / sensitivity
                        sd = fit.standardErrors[1] * abs(cal.gain) / sensitivity
                        significant = abs(perPPM) > 3 * sd
                        let kT = useT ? fit.coefficients[2] : 0
                        for l in gasLevels {
                            let dT = useT ? l.temperature - cal.referenceTemperature : 0
                            points.append((l.step.ppm, (l.mean - fit.coefficients[0] - kT * dT) * cal.gain / sensitivity))
                        }
                    }
                }
                entries.append(Entry(
                    compound: gas, channel: spec.id, key: spec.responseKey, perPPM: perPPM, sd: sd, steps: gasLevels.count,
                    lowPPM: ppms.min() ?? 0, highPPM: ppms.max() ?? 0, significant: significant && perPPM.isFinite))
                traces.append(Trace(channel: spec.id, compound: gas, points: points))
            }
        }
        return SensitivityMatrix(session: session.path, compounds: compounds, entries: entries, traces: traces)
    }

    /// The matrix as `[[compounds]]` entries of the signature library's format.
    /// - Parameters:
    ///   - library: Names the compounds it knows.
    ///   - header: Comment lines to put first (without `#`).
    public func tomlText(library: SignatureLibrary, header: [String]) -> String {
        func f(_ v: Double) -> String { CalibrationFitter.format(v) }
        var out = header.map { "# " + $0 + "\n" }.joined()
        for compound in compounds {
            let name = library.compounds.first { $0.id == compound }?.name ?? compound
            let listed = entries.filter { $0.compound == compound && $0.significant }
            var seenKeys = Set<String>()
            out += "\n[[compounds]]\nid = \(TOMLText.string(compound))\nname = \(TOMLText.string(name))\n"
            for e in listed {
                guard seenKeys.insert(e.key).inserted else {
                    out += "# channel \(e.channel): \(e.key) already listed from another channel; \(f(e.perPPM)) ± \(f(e.sd)) left out\n"
                    continue
                }
                let source = "measured: \(session), channel \(e.channel), \(e.steps) steps \(f(e.lowPPM))–\(f(e.highPPM)) ppm, ±\(f(e.sd)) (1σ)"
                out += "responses.\(e.key) = { per_ppm = \(TOMLText.number(e.perPPM)), source = \(TOMLText.string(source)) }\n"
            }
            for e in entries where e.compound == compound && !e.significant {
                out += "# \(e.key) (channel \(e.channel)): no significant response (\(f(e.perPPM)) ± \(f(e.sd)) per ppm); not listed\n"
            }
        }
        return out
    }

    /// The table for the terminal: compounds down, channels across.
    public var table: String {
        let channels = entries.reduce(into: [String]()) { if !$0.contains($1.channel) { $0.append($1.channel) } }
        var lines = ["per ppm, library units (— : no significant response)", "  " + "compound".pad(14) + channels.map { $0.pad(16) }.joined()]
        for compound in compounds {
            let cells = channels.map { ch -> String in
                guard let e = entry(compound: compound, channel: ch), e.significant else { return "—".pad(16) }
                return CalibrationFitter.format(e.perPPM).pad(16)
            }
            lines.append("  " + compound.pad(14) + cells.joined())
        }
        return lines.joined(separator: "\n")
    }

    /// One panel per channel: each compound's steps and the fitted proportional response.
    public var plotPanels: [PlotPanel] {
        let channels = entries.reduce(into: [String]()) { if !$0.contains($1.channel) { $0.append($1.channel) } }
        return channels.map { ch in
            var series: [PlotSeries] = []
            var residuals: [PlotSeries] = []
            for (i, compound) in compounds.enumerated() {
                guard let e = entry(compound: compound, channel: ch), let trace = traces.first(where: { $0.channel == ch && $0.compound == compound }),
                      !trace.points.isEmpty else { continue }
                series.append(PlotSeries(name: "\(compound) steps", style: .points(i), points: trace.points))
                let top = trace.points.map(\.0).max() ?? 1
                series.append(PlotSeries(name: "\(compound) \(e.significant ? "fit" : "(not significant)")", style: e.significant ? .line(i) : .dashed(i), points: [(0, 0), (top * 1.1, e.perPPM * top * 1.1)]))
                residuals.append(PlotSeries(name: compound, style: .points(i), points: trace.points.map { ($0.0, $0.1 - e.perPPM * $0.0) }))
            }
            let key = entries.first { $0.channel == ch }?.key ?? ""
            return PlotPanel(
                title: "\(ch) (\(key))", xLabel: "concentration (ppm)", yLabel: "response (library units of \(key))",
                series: series, residuals: residuals, residualLabel: "residual")
        }
    }
}
