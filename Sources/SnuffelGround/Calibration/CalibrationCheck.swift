import Foundation
import SnuffelConfig
import SnuffelCore

/// How far a unit's new calibration has moved from an earlier one (`snuffel calibrate
/// check`).
public struct CalibrationDrift: Sendable {
    /// One compared quantity.
    public struct Row: Sendable, Equatable {
        public var name: String
        public var unit: String
        public var old: Double
        public var new: Double
        /// The drift in percent (of the old value, or of full scale for `zero`); nil when the
        /// old value is zero and no full scale applies.
        public var percent: Double?
        /// What the percentage is of: `old` or `full scale`.
        public var basis: String
        /// The largest drift allowed, percent; nil when the quantity is reported only.
        public var limit: Double?

        public var outOfSpec: Bool {
            guard let limit, let percent else { return false }
            return abs(percent) > limit
        }
    }

    public var channel: String
    public var rows: [Row]

    public var outOfSpec: Bool { rows.contains(where: \.outOfSpec) }

    /// Default drift limits, percent. They are Snuffel's own defaults, not taken from a
    /// standard: set those your quality procedure prescribes with `--limit NAME=PERCENT`.
    /// The pre-factor `a` of a MOX fit is allowed more than the exponent `b` because the
    /// two are correlated. Quantities without a limit (temperature and humidity
    /// coefficients, library factors, R²) are reported only, unless a limit is given.
    public static let defaultLimits: [String: Double] = [
        "span": 20, "zero": 5, "r0": 30, "a": 25, "b": 15, "lod_ppm": 100, "t90_rise_s": 50, "t90_decay_s": 50,
    ]

    /// Compares two fits of the same channel with the same gas.
    /// - Parameter limits: Percent limits by quantity name (see ``defaultLimits``).
    /// - Throws: ``CalibrationError`` when the files are of different channels, kinds or gases.
    public static func compare(
        new: CalibrationFitRecord, old: CalibrationFitRecord, limits: [String: Double] = defaultLimits
    ) throws(CalibrationError) -> CalibrationDrift {
        if new.channel != old.channel || new.kind != old.kind {
            throw CalibrationError(
                file: new.file, subject: "[fit] channel",
                reason: "is '\(new.channel)' (\(new.kind.rawValue)) but \(old.file) is of '\(old.channel)' (\(old.kind.rawValue)): compare two calibrations of the same channel")
        }
        if new.gas != old.gas {
            throw CalibrationError(
                file: new.file, subject: "[fit] gas",
                reason: "the unit was calibrated with \(new.gas) but \(old.file) with \(old.gas): spans with different gases cannot be compared")
        }
        // Full scale: the old fit's response change over its calibrated range.
        let fullScale = abs((old.parameter("span")?.value ?? 0) * old.validMax)
        var rows: [Row] = []
        func add(_ name: String, _ unit: String, _ o: Double, _ n: Double) {
            var percent: Double? = o != 0 ? 100 * (n - o) / abs(o) : nil
            var basis = "old"
            if name == "zero" {
                percent = fullScale > 0 ? 100 * (n - o) / fullScale : nil
                basis = "full scale"
            }
            rows.append(Row(name: name, unit: unit, old: o, new: n, percent: percent, basis: basis, limit: limits[name]))
        }
        for p in new.parameters {
            guard let o = old.parameter(p.name) else { continue }
            add(p.name, p.unit, o.value, p.value)
        }
        add("lod_ppm", "ppm", old.limitOfDetection, new.limitOfDetection)
        if let o = old.t90Rise, let n = new.t90Rise { add("t90_rise_s", "s", o, n) }
        if let o = old.t90Decay, let n = new.t90Decay { add("t90_decay_s", "s", o, n) }
        add("r_squared", "1", old.rSquared, new.rSquared)
        return CalibrationDrift(channel: new.channel, rows: rows)
    }

    /// The table for the terminal.
    public var table: String {
        func f(_ v: Double) -> String { CalibrationFitter.format(v) }
        var lines = ["channel \(channel)", "  quantity           old            new            drift          limit      status"]
        for r in rows {
            let drift = r.percent.map { String(format: "%+.1f %%", $0) + (r.basis == "old" ? "" : " FS") } ?? "n/a"
            let limit = r.limit.map { String(format: "±%.0f %%", $0) } ?? "—"
            let status = r.limit == nil || r.percent == nil ? "reported" : (r.outOfSpec ? "OUT OF SPEC" : "ok")
            lines.append("  " + [r.name.pad(18), f(r.old).pad(14), f(r.new).pad(14), drift.pad(14), limit.pad(10), status].joined(separator: " "))
        }
        lines.append(outOfSpec ? "OUT OF SPECIFICATION: \(rows.filter(\.outOfSpec).map(\.name).joined(separator: ", "))" : "within specification")
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Left-aligned in a column of `width` characters.
    func pad(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
