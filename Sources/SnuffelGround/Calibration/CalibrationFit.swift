import Foundation
import SnuffelConfig
import SnuffelCore

/// Fits each channel's calibration model to a session's steps (`snuffel calibrate fit`).
///
/// Every step gives one point: the mean of its plateau (the last `plateau_fraction` of
/// the step), with the plateau's mean temperature and absolute humidity. The model of the
/// channel's kind is fitted to the points of the calibration gas and the zero-air steps by
/// linear least squares (``LinearLeastSquares``):
///
/// | kind | model | parameters |
/// | --- | --- | --- |
/// | MOX (`mox_resistance`, `sraw_voc`, `sraw_nox`) | `ln Rs = ln R0 + g·(ln a + b ln C) + k_T ΔT + k_H ΔAH` | `r0`, `a`, `b`, `k_t`, `k_h` |
/// | `pid` | `raw = zero + span·C` | `zero`, `span` (`k_t` as configured); `response_factor` from the library |
/// | `electrochemical` | `raw = zero + span·C + k_T ΔT` | `zero`, `span`, `k_t`; `cross_sensitivity` from the library |
///
/// `g` is 1 for a gas step and 0 for zero air, so that `Rs/R0 = a·C^b` (the power law of
/// metal-oxide sensors) holds at the reference temperature and humidity; ΔT and ΔAH are the
/// departures from the channel's configured `ref_temp_c` and `ref_abs_humidity`. The
/// temperature and humidity terms are fitted only when the steps span at least 1 °C and
/// 0.5 g/m³ respectively (humidity for MOX kinds only); otherwise the configured
/// coefficients are kept and taken out of the steps before the fit, so that `r0` and `zero`
/// still refer to the reference temperature and humidity (`k_t`, `k_h` then show the
/// configured values with an uncertainty of 0).
///
/// Limit of detection: `LOD = 3 s_blank / slope` (IUPAC, Compendium of Chemical
/// Terminology, "limit of detection"; Long & Winefordner, Anal. Chem. 55 (1983) 712A), with
/// `s_blank` the pooled standard deviation of the zero-air plateaus and the slope at low
/// concentration (for MOX, that of the pipeline's linearised model `e = β ln(1 + A·C)`,
/// i.e. `β·A`).
///
/// T90: the time from a step's start (the concentration change at the inlet) until the
/// reading has completed 90 % of its change from the previous plateau to this one — the
/// response time t(90) of EN 60079-29-1 and EN 45544-1. The median over the session's
/// rising (concentration up) and decaying (down) steps is reported.
public enum CalibrationFitter {
    /// The reference gas of photoionisation detectors: their readings are in ppb
    /// isobutylene-equivalent, so 1 ppm isobutylene reads 1000 by definition.
    public static let isobutylene = "isobutylene"

    /// Fits one channel.
    /// - Parameters:
    ///   - channel: The channel's id.
    ///   - gas: The calibration gas; nil picks the channel's usual one among the steps'
    ///     gases (see ``defaultGas(for:steps:library:)``).
    /// - Returns: The record to write (its `file` is empty).
    /// - Throws: ``CalibrationError`` naming the steps file or the session, the step or
    ///   channel, and what is wrong.
    public static func fit(
        session: CalibrationSession, steps: CalibrationSteps, channel id: String, gas: String? = nil
    ) throws(CalibrationError) -> CalibrationFitRecord {
        guard let c = session.channelIndex(id) else {
            throw CalibrationError(
                file: session.path, subject: "channel '\(id)'",
                reason: "no such channel in the session (channels: \(session.channels.map(\.id).joined(separator: ", ")))")
        }
        let spec = session.channels[c]
        let subject = "channel '\(id)'"
        guard spec.kind.isGas else {
            throw CalibrationError(file: session.path, subject: subject, reason: "a \(spec.kind.rawValue) channel is not a gas sensor; nothing to fit")
        }
        guard let gas = gas ?? defaultGas(for: spec, steps: steps, library: session.library) else {
            let gases = Set(steps.steps.compactMap(\.gas)).sorted()
            throw CalibrationError(
                file: steps.file, subject: subject,
                reason: gases.isEmpty ? "the steps have no gas, only zero air" : "no calibration gas chosen for this \(spec.kind.rawValue) channel among the steps' gases (\(gases.joined(separator: ", "))): name one with --gas")
        }
        let library = session.library.compounds.first { $0.id == gas }
        // Expected physical response per ppm of the gas: PID readings are ppb
        // isobutylene-equivalent (1000 per ppm isobutylene; the library's per_ppm = 1000/CF
        // for other compounds); cells read ppm of their target gas (1 per ppm of it, the
        // library's cross-sensitivity for other gases).
        var factor = 1.0
        if spec.kind == .pid {
            if gas == isobutylene {
                factor = 1000
            } else if let f = library?.responses["pid"]?.perPPM, f != 0 {
                factor = f
            } else {
                throw CalibrationError(
                    file: steps.file, subject: subject,
                    reason: "no PID response factor for '\(gas)': it is neither isobutylene nor a compound with a pid response in the signature library")
            }
        } else if spec.kind.isMOX {
            factor = 1
        } else if let f = library?.responses[spec.responseKey]?.perPPM, f != 0 {
            factor = f
        } else if gas == spec.gas {
            factor = 1
        } else {
            throw CalibrationError(
                file: steps.file, subject: subject,
                reason: "no cross-sensitivity of the \(spec.gas ?? "?") cell to '\(gas)' in the signature library (\(spec.responseKey)); calibrate the cell with its target gas")
        }
        let levels = try session.levels(channel: c, steps: steps)
        let blanks = levels.filter(\.step.isBlank)
        let points = levels.filter { $0.step.isBlank || $0.step.gas == gas }
        let gasPoints = points.filter { !$0.step.isBlank }
        if gasPoints.isEmpty {
            throw CalibrationError(file: steps.file, subject: subject, reason: "no step has the gas '\(gas)'")
        }
        let cal = spec.calibration
        let useT = spec.kind != .pid && spread(points.map(\.temperature)) >= 1
        let useH = spec.kind.isMOX && spread(points.map(\.absoluteHumidity)) >= 0.5
        let concentrations = Set(gasPoints.map(\.step.ppm))
        let parameterCount = (spec.kind.isMOX ? 3 : 2) + (useT ? 1 : 0) + (useH ? 1 : 0)
        let neededConcentrations = 2
        if blanks.isEmpty || concentrations.count < neededConcentrations || points.count <= parameterCount {
            throw CalibrationError(
                file: steps.file, subject: subject,
                reason: "too few points to fit the \(spec.kind.rawValue) model with \(gas): \(points.count) steps (\(blanks.count) zero-air, \(gasPoints.count) with \(gas) at \(concentrations.count) different concentrations); the model has \(parameterCount) parameters and needs more steps than that, at least one zero-air step and \(neededConcentrations) different concentrations")
        }

        // The design.
        var rows: [[Double]] = []
        for p in points {
            var row: [Double]
            if spec.kind.isMOX {
                let g = p.step.isBlank ? 0.0 : 1.0
                row = [1, g, g * (p.step.isBlank ? 0 : log(p.step.ppm))]
            } else {
                row = [1, p.step.ppm]
            }
            if useT { row.append(p.temperature - cal.referenceTemperature) }
            if useH { row.append(p.absoluteHumidity - cal.referenceAbsoluteHumidity) }
            rows.append(row)
        }
        // Terms that are not fitted are taken as configured, in the fit's domain: for MOX
        // kinds the configured coefficients act on the physical value s·ln Rs (s = −1 but for
        // the NOx pixel), for the others on (raw − offset)·gain.
        let sign: Double = spec.kind == .srawNOx ? 1 : -1
        let fixedT = useT ? 0 : (spec.kind.isMOX ? sign * cal.temperatureCoefficient : cal.temperatureCoefficient / cal.gain)
        let fixedH = useH ? 0 : (spec.kind.isMOX ? sign * cal.humidityCoefficient : cal.humidityCoefficient / cal.gain)
        let observations = points.map { p -> Double in
            let dT = p.temperature.isFinite ? p.temperature - cal.referenceTemperature : 0
            let dH = p.absoluteHumidity.isFinite ? p.absoluteHumidity - cal.referenceAbsoluteHumidity : 0
            return p.mean - fixedT * dT - fixedH * dH
        }
        let ls: LinearLeastSquares
        switch LinearLeastSquares.fit(rows: rows, y: observations) {
        case .success(let fit): ls = fit
        case .failure(.tooFewObservations(let n, let p)):
            throw CalibrationError(file: steps.file, subject: subject, reason: "too few points: \(n) steps for \(p) parameters")
        case .failure(.rankDeficient(let column)):
            let names = spec.kind.isMOX ? ["ln R0", "ln a", "b"] : ["zero", "span"]
            let all = names + (useT ? ["temperature coefficient"] : []) + (useH ? ["humidity coefficient"] : [])
            throw CalibrationError(
                file: steps.file, subject: subject,
                reason: "the steps cannot separate the \(all[min(column, all.count - 1)]) from the other parameters: vary temperature and humidity independently, or keep them constant")
        }
        let beta = ls.coefficients, se = ls.standardErrors
        let kT = useT ? beta[parameterCount - (useH ? 2 : 1)] : fixedT
        let kTsd = useT ? se[parameterCount - (useH ? 2 : 1)] : 0
        let kH = useH ? beta[parameterCount - 1] : fixedH
        let kHsd = useH ? se[parameterCount - 1] : 0

        // Does the channel see the gas at all? The slope must stand out of its uncertainty.
        let slopeIndex = spec.kind.isMOX ? 2 : 1
        let slope = beta[slopeIndex], slopeSD = se[slopeIndex]
        if !(abs(slope) > 3 * slopeSD) || !slope.isFinite {
            throw CalibrationError(
                file: steps.file, subject: subject,
                reason: "the channel does not respond to \(gas): its \(spec.kind.isMOX ? "power-law exponent b" : "span") is \(format(slope)) ± \(format(slopeSD)), not distinguishable from zero (3σ); calibrate it with a gas it sees, or leave it out with --channel")
        }

        // Blank noise, pooled over the zero-air plateaus.
        let blankSD = StepLevel.pooledSD(blanks)

        var calibration = cal
        var parameters: [CalibrationFitRecord.Parameter] = []
        let lod: Double
        let model: String
        let responseUnit: String
        if spec.kind.isMOX {
            // Sign of the pipeline's physical value relative to ln Rs: log-conductance for
            // VOC and resistance channels, log-resistance for the NOx pixel.
            let s = sign
            let exponent = s * slope
            guard exponent > 0 else {
                throw CalibrationError(
                    file: steps.file, subject: subject,
                    reason: "\(gas) moves this channel the wrong way (b = \(format(slope)) ± \(format(slopeSD))): calibrate \(spec.kind == .srawNOx ? "the NOx pixel with an oxidising gas (no2)" : "a \(spec.kind.rawValue) channel with a reducing gas")")
            }
            let z0 = beta[0], lnA = beta[1]
            let linearised = exp(lnA / slope)  // A in e = β ln(1 + A·C)
            calibration.offset = spec.kind == .moxResistance ? exp(z0) : z0 / cal.gain
            calibration.moxExponent = exponent
            if useT { calibration.temperatureCoefficient = s * kT }
            if useH { calibration.humidityCoefficient = s * kH }
            if let nominal = library?.responses[spec.responseKey]?.perPPM, nominal > 0 {
                calibration.sensitivity = linearised / nominal
            }
            calibration.noiseFloor = max(blankSD, 1e-6)
            lod = 3 * blankSD / (exponent * linearised)
            let r0 = spec.kind == .moxResistance
                ? CalibrationFitRecord.Parameter(name: "r0", value: exp(z0), sd: exp(z0) * se[0], unit: "ohm")
                : CalibrationFitRecord.Parameter(name: "r0", value: z0 / cal.gain, sd: se[0] / abs(cal.gain), unit: "ticks")
            parameters = [
                r0,
                .init(name: "a", value: exp(lnA), sd: exp(lnA) * se[1], unit: "Rs/R0 at 1 ppm"),
                .init(name: "b", value: slope, sd: slopeSD, unit: "1"),
                .init(name: "k_t", value: kT, sd: kTsd, unit: "neper/°C"),
                .init(name: "k_h", value: kH, sd: kHsd, unit: "neper per g/m³"),
            ]
            model = "ln(Rs/R0) = ln a + b ln C + k_t (T - ref_temp_c) + k_h (AH - ref_abs_humidity)"
            responseUnit = "ln Rs, neper"
        } else {
            calibration.offset = beta[0]
            calibration.gain = factor / slope
            if useT { calibration.temperatureCoefficient = kT * calibration.gain }
            calibration.sensitivity = 1
            calibration.noiseFloor = max(blankSD * abs(calibration.gain), 1e-6)
            lod = 3 * blankSD / abs(slope)
            parameters = [
                .init(name: "zero", value: beta[0], sd: se[0], unit: spec.unit.isEmpty ? "raw" : spec.unit),
                .init(name: "span", value: slope, sd: slopeSD, unit: "raw per ppm \(gas)"),
                .init(name: "k_t", value: kT, sd: kTsd, unit: "raw/°C"),
            ]
            if spec.kind == .pid {
                parameters.append(.init(name: "response_factor", value: factor, sd: 0, unit: "ppb isobutylene-equivalent per ppm"))
                model = "raw = zero + span C + k_t (T - ref_temp_c), k_t as configured"
            } else {
                parameters.append(.init(name: "cross_sensitivity", value: factor, sd: 0, unit: "ppm \(spec.gas ?? "") per ppm"))
                model = "raw = zero + span C + k_t (T - ref_temp_c)"
            }
            responseUnit = spec.unit.isEmpty ? "raw" : spec.unit
        }

        let recordPoints = zip(points, ls.residuals).map { p, r in
            CalibrationFitRecord.Point(
                ppm: p.step.ppm, temperature: p.temperature, absoluteHumidity: p.absoluteHumidity, response: p.mean, fitted: p.mean - r)
        }
        let (rise, decay) = t90(session: session, channel: c, levels: levels, gas: gas, blankSD: blankSD)
        return CalibrationFitRecord(
            file: "", calibration: calibration, channel: id, kind: spec.kind, gas: gas, session: session.path, model: model,
            responseUnit: responseUnit, parameters: parameters, rSquared: ls.rSquared, residualSD: ls.residualVariance.squareRoot(),
            blankSD: blankSD, limitOfDetection: lod, t90Rise: rise, t90Decay: decay, validMin: lod,
            validMax: concentrations.max() ?? 0, points: recordPoints)
    }

    /// The gas a channel is calibrated with when none is named: for an electrochemical
    /// cell, the steps' gas that is its target (the gas named like the cell, or the library
    /// compound with a response of 1 on it); for a PID or a MOX channel, isobutylene; for any channel, the
    /// only gas of the steps when there is one. Otherwise nil.
    public static func defaultGas(for spec: ChannelSpec, steps: CalibrationSteps, library: SignatureLibrary) -> String? {
        var gases: [String] = []
        for g in steps.steps.compactMap(\.gas) where !gases.contains(g) { gases.append(g) }
        switch spec.kind {
        case .electrochemical:
            if let g = gases.first(where: { $0 == spec.gas }) { return g }
            if let g = gases.first(where: { g in library.compounds.first { $0.id == g }?.responses[spec.responseKey]?.perPPM == 1 }) {
                return g
            }
        case .pid, .srawVOC, .srawNOx, .moxResistance:
            // Isobutylene is the usual span gas of PIDs and a common test gas of MOX sensors.
            if gases.contains(isobutylene) { return isobutylene }
        default: break
        }
        return gases.count == 1 ? gases[0] : nil
    }

    /// The median T90 of rising and of decaying steps, in seconds.
    static func t90(
        session: CalibrationSession, channel c: Int, levels: [StepLevel], gas: String, blankSD: Double
    ) -> (rise: Double?, decay: Double?) {
        let spec = session.channels[c]
        let period = spec.rateHz > 0 ? 1 / spec.rateHz : 1
        var rises: [Double] = [], decays: [Double] = []
        for i in levels.indices.dropFirst() {
            let previous = levels[i - 1], current = levels[i]
            guard current.step.start - previous.step.end <= 2 * period,
                  previous.step.isBlank || previous.step.gas == gas, current.step.isBlank || current.step.gas == gas,
                  previous.step.ppm != current.step.ppm else { continue }
            let change = current.mean - previous.mean
            guard abs(change) > 10 * max(blankSD, 1e-12) else { continue }
            let target = previous.mean + 0.9 * change
            // Readings of the step, smoothed by a centred mean of three against noise.
            var window: [(Double, Double)] = []
            for (t, raw) in zip(session.times[c], session.values[c]) where t >= current.step.start - period && t <= current.step.end {
                if let v = ResponseDomain.value(raw, channel: spec) { window.append((t, v)) }
            }
            guard window.count >= 3 else { continue }
            for k in 1..<(window.count - 1) where window[k].0 >= current.step.start {
                let smooth = (window[k - 1].1 + window[k].1 + window[k + 1].1) / 3
                if (smooth - target) * (change > 0 ? 1 : -1) >= 0 {
                    let t = window[k].0 - current.step.start
                    if current.step.ppm > previous.step.ppm { rises.append(t) } else { decays.append(t) }
                    break
                }
            }
        }
        return (median(rises), median(decays))
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Largest minus smallest of the finite values; 0 when there are none.
    static func spread(_ values: [Double]) -> Double {
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return 0 }
        return hi - lo
    }

    /// A number for messages and files: 6 significant digits.
    public static func format(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
        if v == 0 { return "0" }
        return String(format: "%.6g", v)
    }
}
