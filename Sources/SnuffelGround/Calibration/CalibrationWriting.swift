import Foundation
import SnuffelConfig
import SnuffelCore

/// TOML text for the files `snuffel calibrate` writes.
enum TOMLText {
    /// A TOML basic string, quoted and escaped (as the simulated flights' truth files are).
    static func string(_ s: String) -> String { SimulatedFlightLog.quoted(s) }

    /// A TOML float with 10 significant digits (always with a '.' or an exponent, so that
    /// it reads back as a float); `nan` and `inf` are written as 0, which the callers avoid.
    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0.0" }
        var text = String(format: "%.10g", v)
        if !text.contains(".") && !text.contains("e") && !text.contains("n") { text += ".0" }
        return text
    }
}

extension CalibrationFitRecord {
    /// The text of the per-unit calibration file: the calibration keys a payload reads
    /// (`calibration = "units/UNIT.toml"`), then the `[fit]` record.
    /// - Parameter header: Comment lines to put first (without `#`).
    public func tomlText(header: [String]) -> String {
        var out = header.map { "# " + $0 + "\n" }.joined()
        let c = calibration
        out += """

            # Calibration keys (read by the payload configuration)
            offset = \(TOMLText.number(c.offset))
            gain = \(TOMLText.number(c.gain))
            temp_coeff = \(TOMLText.number(c.temperatureCoefficient))
            humidity_coeff = \(TOMLText.number(c.humidityCoefficient))
            ref_temp_c = \(TOMLText.number(c.referenceTemperature))
            ref_abs_humidity = \(TOMLText.number(c.referenceAbsoluteHumidity))
            mox_exponent = \(TOMLText.number(c.moxExponent))
            sensitivity = \(TOMLText.number(c.sensitivity))
            noise_floor = \(TOMLText.number(c.noiseFloor))

            # How they were found (ignored by the payload configuration; read by snuffel calibrate check)
            [fit]
            channel = \(TOMLText.string(channel))
            kind = \(TOMLText.string(kind.rawValue))
            gas = \(TOMLText.string(gas))
            session = \(TOMLText.string(session))
            model = \(TOMLText.string(model))
            response_unit = \(TOMLText.string(responseUnit))
            r_squared = \(TOMLText.number(rSquared))
            residual_sd = \(TOMLText.number(residualSD))       # of the step means about the fit, response units
            blank_sd = \(TOMLText.number(blankSD))          # of zero-air readings, response units
            lod_ppm = \(TOMLText.number(limitOfDetection))           # 3 blank_sd / slope (IUPAC)

            """
        if let t90Rise { out += "t90_rise_s = \(TOMLText.number(t90Rise))\n" }
        if let t90Decay { out += "t90_decay_s = \(TOMLText.number(t90Decay))\n" }
        out += "valid_min_ppm = \(TOMLText.number(validMin))\nvalid_max_ppm = \(TOMLText.number(validMax))\n"
        for p in parameters {
            out += "\n[[fit.parameters]]\nname = \(TOMLText.string(p.name))\nvalue = \(TOMLText.number(p.value))\nsd = \(TOMLText.number(p.sd))\nunit = \(TOMLText.string(p.unit))\n"
        }
        for p in points {
            out += "\n[[fit.points]]\nppm = \(TOMLText.number(p.ppm))\n"
            if p.temperature.isFinite { out += "temp_c = \(TOMLText.number(p.temperature))\n" }
            if p.absoluteHumidity.isFinite { out += "abs_humidity = \(TOMLText.number(p.absoluteHumidity))\n" }
            out += "response = \(TOMLText.number(p.response))\nfitted = \(TOMLText.number(p.fitted))\nresidual = \(TOMLText.number(p.residual))\n"
        }
        return out
    }

    /// A few lines for the terminal.
    public var summary: String {
        func f(_ v: Double) -> String { CalibrationFitter.format(v) }
        var lines = ["\(channel) (\(kind.rawValue)) with \(gas): \(model)"]
        for p in parameters {
            lines.append("  \(p.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(f(p.value)) ± \(f(p.sd)) \(p.unit)")
        }
        lines.append("  R² \(String(format: "%.6f", rSquared)), residual SD \(f(residualSD)), LOD \(f(limitOfDetection)) ppm, valid \(f(validMin))–\(f(validMax)) ppm")
        lines.append("  T90 rise \(t90Rise.map { f($0) + " s" } ?? "n/a"), decay \(t90Decay.map { f($0) + " s" } ?? "n/a")")
        return lines.joined(separator: "\n")
    }

    /// The response the fitted model predicts at `ppm` at the reference temperature and
    /// humidity, in the plot's units: Rs/R0 for MOX kinds, the raw reading otherwise.
    public func curve(ppm: Double) -> Double {
        if kind.isMOX {
            return (parameter("a")?.value ?? 1) * pow(ppm, parameter("b")?.value ?? 0)
        }
        return (parameter("zero")?.value ?? 0) + (parameter("span")?.value ?? 0) * ppm
    }

    /// A step's response brought to the reference temperature and humidity, in the plot's
    /// units (see ``curve(ppm:)``); residuals are in the fit's domain.
    public func plotted(_ p: Point) -> Double {
        let kT = parameter("k_t")?.value ?? 0, kH = parameter("k_h")?.value ?? 0
        let dT = p.temperature.isFinite ? p.temperature - calibration.referenceTemperature : 0
        let dH = p.absoluteHumidity.isFinite ? p.absoluteHumidity - calibration.referenceAbsoluteHumidity : 0
        let compensated = p.response - kT * dT - kH * dH
        if kind.isMOX {
            let r0 = parameter("r0")?.value ?? 1
            let z0 = kind == .moxResistance ? log(r0) : r0 * calibration.gain
            return exp(compensated - z0)
        }
        return compensated
    }

    /// The plot panel of this fit: steps and fitted curve (log–log for MOX), residuals.
    /// - Parameter compared: An older fit of the same channel to draw with it.
    public func plotPanel(compared old: CalibrationFitRecord? = nil, title: String? = nil) -> PlotPanel {
        let gasPoints = points.filter { !kind.isMOX || $0.ppm > 0 }
        let top = max(points.map(\.ppm).max() ?? 1, old?.points.map(\.ppm).max() ?? 0)
        let bottom = kind.isMOX ? max(min(gasPoints.map(\.ppm).min() ?? 1, old?.points.filter { $0.ppm > 0 }.map(\.ppm).min() ?? .infinity) / 1.5, 1e-6) : 0
        func curveSeries(_ r: CalibrationFitRecord, name: String, style: PlotSeries.Style) -> PlotSeries {
            let xs = (0...80).map { i -> Double in
                let f = Double(i) / 80
                return r.kind.isMOX ? bottom * pow(top * 1.2 / bottom, f) : top * 1.1 * f
            }
            return PlotSeries(name: name, style: style, points: xs.map { ($0, r.curve(ppm: $0)) })
        }
        var series = [
            PlotSeries(name: "steps (\(gas))", style: .points(0), points: gasPoints.map { ($0.ppm, plotted($0)) }),
            curveSeries(self, name: "fit", style: .line(0)),
        ]
        if let old {
            series.append(PlotSeries(name: "earlier steps", style: .points(1), points: old.points.filter { !old.kind.isMOX || $0.ppm > 0 }.map { ($0.ppm, old.plotted($0)) }))
            series.append(PlotSeries(name: "earlier fit", style: .dashed(1), points: curveSeries(old, name: "", style: .line(1)).points.map { ($0.x, $0.y) }))
        }
        let residuals = [PlotSeries(name: "residual", style: .points(0), points: gasPoints.map { ($0.ppm, $0.residual) })]
        return PlotPanel(
            title: title ?? "\(channel) (\(kind.rawValue)), \(gas): R² = \(String(format: "%.5f", rSquared))",
            xLabel: "concentration (ppm \(gas))", yLabel: kind.isMOX ? "Rs/R0 (at reference T, AH)" : "reading (\(responseUnit))",
            xLog: kind.isMOX, yLog: kind.isMOX, series: series,
            residuals: residuals, residualLabel: "residual (\(kind.isMOX ? "neper" : kind == .pid ? "ppb" : responseUnit))")
    }
}
