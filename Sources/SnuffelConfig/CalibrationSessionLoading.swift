import SnuffelCore
import TOMLKit

/// The steps of a calibration session (`steps.toml`): when the payload breathed which gas
/// at which concentration.
///
/// ```toml
/// plateau_fraction = 0.33        # optional: average the last third of each step [0.33]
///
/// [[steps]]
/// start_s = 0                    # seconds from the session's first sample
/// end_s = 150
/// gas = "zero"                   # zero air: a blank
///
/// [[steps]]
/// start_s = 150
/// end_s = 300
/// gas = "isobutylene"            # "isobutylene" or a compound id of the signature library
/// ppm = 10
/// ```
///
/// Steps are in time order and do not overlap. A blank is `gas = "zero"` (its `ppm` is 0
/// when given); any other gas has `ppm > 0`.
public struct CalibrationSteps: Sendable, Equatable {
    /// One time span at one concentration of one gas.
    public struct Step: Sendable, Equatable {
        /// Zero-based position in the file (`steps[index]` in messages).
        public var index: Int
        public var start: Double
        public var end: Double
        /// `nil` for a blank (zero air).
        public var gas: String?
        public var ppm: Double

        public init(index: Int, start: Double, end: Double, gas: String?, ppm: Double) {
            self.index = index
            self.start = start
            self.end = end
            self.gas = gas
            self.ppm = ppm
        }

        public var isBlank: Bool { gas == nil }

        /// `steps[3] (isobutylene 10 ppm, 450–600 s)`, for messages.
        public var label: String {
            func seconds(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
            let what = gas.map { "\($0) \(seconds(ppm)) ppm" } ?? "zero air"
            return "steps[\(index)] (\(what), \(seconds(start))–\(seconds(end)) s)"
        }
    }

    public var file: String
    public var steps: [Step]
    /// The fraction of each step, at its end, whose samples make the step's steady value.
    public var plateauFraction: Double

    public init(file: String, steps: [Step], plateauFraction: Double = 0.33) {
        self.file = file
        self.steps = steps
        self.plateauFraction = plateauFraction
    }

    /// The gas name of a blank step.
    public static let blankGas = "zero"

    /// Loads and checks a steps file (see the type's documentation).
    /// - Throws: ``ConfigurationError`` naming the file, the step and the reason.
    public static func load(path: String) throws(ConfigurationError) -> CalibrationSteps {
        try parse(text: ConfigurationFile.read(path: path), path: path)
    }

    /// Parses the text of a steps file (see ``load(path:)``).
    public static func parse(text: String, path: String) throws(ConfigurationError) -> CalibrationSteps {
        let root = try TableReader(ConfigurationFile.parse(text, file: path), file: path, path: "", allowed: ["plateau_fraction", "steps"])
        var result = CalibrationSteps(file: path, steps: [])
        if let f = try root.double("plateau_fraction") {
            guard f > 0 && f <= 1 else { throw root.error("plateau_fraction", "must be in (0, 1], got \(f)") }
            result.plateauFraction = f
        }
        guard let tables = try root.arrayOfTables("steps"), !tables.isEmpty else {
            throw root.missing("steps", "the steps of the session, as [[steps]] tables with start_s, end_s, gas and ppm")
        }
        for (index, table) in tables.enumerated() {
            let reader = try TableReader(table, file: path, path: "steps[\(index)]", allowed: ["start_s", "end_s", "gas", "ppm", "note"])
            let start = try reader.requiredDouble("start_s", "seconds from the session's first sample at which the step begins")
            let end = try reader.requiredDouble("end_s", "seconds from the session's first sample at which the step ends")
            let gas = try reader.requiredString("gas", "\"zero\" for zero air, or the gas: \"isobutylene\" or a compound id of the signature library")
            let ppm = try reader.double("ppm")
            _ = try reader.string("note")
            guard start >= 0 else { throw reader.error("start_s", "must be ≥ 0, got \(start)") }
            guard end > start else { throw reader.error("end_s", "must be after start_s (\(start)), got \(end)") }
            guard Identifier.isValid(gas) else {
                throw reader.error("gas", "invalid gas name \(TableReader.quoted(gas)): \(Identifier.rule)")
            }
            if gas == blankGas {
                if let ppm, ppm != 0 { throw reader.error("ppm", "a zero-air step has no concentration; got \(ppm) ppm") }
                result.steps.append(Step(index: index, start: start, end: end, gas: nil, ppm: 0))
            } else {
                guard let ppm else { throw reader.missing("ppm", "the concentration of \(gas) in ppm") }
                guard ppm > 0 else {
                    throw reader.error("ppm", "must be > 0 for a gas, got \(ppm) (write gas = \"zero\" for zero air)")
                }
                result.steps.append(Step(index: index, start: start, end: end, gas: gas, ppm: ppm))
            }
            if index > 0, start < result.steps[index - 1].end {
                throw reader.error("start_s", "the step begins at \(start) s, before the previous step ends (\(result.steps[index - 1].end) s): steps are in time order and do not overlap")
            }
        }
        return result
    }
}

/// A per-unit calibration file as `snuffel calibrate fit` writes it: the calibration keys
/// the payload configuration reads, and the `[fit]` table that records how they were found.
public struct CalibrationFitRecord: Sendable, Equatable {
    /// One fitted parameter.
    public struct Parameter: Sendable, Equatable {
        public var name: String
        public var value: Double
        /// Standard uncertainty (1σ); 0 when the parameter was not fitted.
        public var sd: Double
        public var unit: String

        public init(name: String, value: Double, sd: Double, unit: String) {
            self.name = name
            self.value = value
            self.sd = sd
            self.unit = unit
        }
    }

    /// One step's steady value, as used in the fit.
    public struct Point: Sendable, Equatable {
        public var ppm: Double
        public var temperature: Double
        public var absoluteHumidity: Double
        /// The step's mean response in the fit's domain.
        public var response: Double
        /// The model's value at the step.
        public var fitted: Double

        public init(ppm: Double, temperature: Double, absoluteHumidity: Double, response: Double, fitted: Double) {
            self.ppm = ppm
            self.temperature = temperature
            self.absoluteHumidity = absoluteHumidity
            self.response = response
            self.fitted = fitted
        }

        public var residual: Double { response - fitted }
    }

    public var file: String
    public var calibration: Calibration
    public var channel: String
    public var kind: ChannelKind
    public var gas: String
    public var session: String
    public var model: String
    /// Unit of the fit's response domain (`neper (ln Rs)`, `ppb`, ...).
    public var responseUnit: String
    public var parameters: [Parameter]
    public var rSquared: Double
    public var residualSD: Double
    public var blankSD: Double
    public var limitOfDetection: Double
    public var t90Rise: Double?
    public var t90Decay: Double?
    public var validMin: Double
    public var validMax: Double
    public var points: [Point]

    public init(
        file: String, calibration: Calibration, channel: String, kind: ChannelKind, gas: String, session: String, model: String,
        responseUnit: String, parameters: [Parameter], rSquared: Double, residualSD: Double, blankSD: Double,
        limitOfDetection: Double, t90Rise: Double?, t90Decay: Double?, validMin: Double, validMax: Double, points: [Point]
    ) {
        self.file = file
        self.calibration = calibration
        self.channel = channel
        self.kind = kind
        self.gas = gas
        self.session = session
        self.model = model
        self.responseUnit = responseUnit
        self.parameters = parameters
        self.rSquared = rSquared
        self.residualSD = residualSD
        self.blankSD = blankSD
        self.limitOfDetection = limitOfDetection
        self.t90Rise = t90Rise
        self.t90Decay = t90Decay
        self.validMin = validMin
        self.validMax = validMax
        self.points = points
    }

    public func parameter(_ name: String) -> Parameter? { parameters.first { $0.name == name } }

    static let fitKeys = [
        "channel", "kind", "gas", "session", "model", "response_unit", "r_squared", "residual_sd", "blank_sd", "lod_ppm",
        "t90_rise_s", "t90_decay_s", "valid_min_ppm", "valid_max_ppm", "parameters", "points",
    ]

    /// Loads a calibration file written by `snuffel calibrate fit`.
    /// - Throws: ``ConfigurationError`` naming the file and key; a file without `[fit]`
    ///   (written by hand) is refused, since it records nothing to compare.
    public static func load(path: String) throws(ConfigurationError) -> CalibrationFitRecord {
        let text = try ConfigurationFile.read(path: path)
        let root = try TableReader(
            ConfigurationFile.parse(text, file: path), file: path, path: "", allowed: Calibration.configurationKeys + ["fit"])
        let calibration = try Calibration(reading: root)
        guard let fit = try root.table("fit", allowed: fitKeys) else {
            throw root.missing("fit", "the record of the fit that `snuffel calibrate fit` writes; this file has only calibration keys")
        }
        let kindName = try fit.requiredString("kind", "the channel kind")
        guard let kind = ChannelKind(rawValue: kindName) else { throw fit.error("kind", "unknown channel kind '\(kindName)'") }
        var parameters: [Parameter] = []
        for (i, t) in (try fit.arrayOfTables("parameters") ?? []).enumerated() {
            let p = try TableReader(t, file: path, path: fit.key("parameters") + "[\(i)]", allowed: ["name", "value", "sd", "unit"])
            parameters.append(Parameter(
                name: try p.requiredString("name", "the parameter's name"), value: try p.requiredDouble("value", "its value"),
                sd: try p.double("sd") ?? 0, unit: try p.string("unit") ?? ""))
        }
        var points: [Point] = []
        for (i, t) in (try fit.arrayOfTables("points") ?? []).enumerated() {
            let p = try TableReader(
                t, file: path, path: fit.key("points") + "[\(i)]",
                allowed: ["ppm", "temp_c", "abs_humidity", "response", "fitted", "residual"])
            points.append(Point(
                ppm: try p.requiredDouble("ppm", "concentration"), temperature: try p.double("temp_c") ?? .nan,
                absoluteHumidity: try p.double("abs_humidity") ?? .nan, response: try p.requiredDouble("response", "the step's mean"),
                fitted: try p.requiredDouble("fitted", "the model's value")))
        }
        return CalibrationFitRecord(
            file: path, calibration: calibration, channel: try fit.requiredString("channel", "the channel id"), kind: kind,
            gas: try fit.requiredString("gas", "the calibration gas"), session: try fit.string("session") ?? "",
            model: try fit.string("model") ?? "", responseUnit: try fit.string("response_unit") ?? "", parameters: parameters,
            rSquared: try fit.requiredDouble("r_squared", "R² of the fit"), residualSD: try fit.double("residual_sd") ?? 0,
            blankSD: try fit.double("blank_sd") ?? 0, limitOfDetection: try fit.requiredDouble("lod_ppm", "the limit of detection"),
            t90Rise: try fit.double("t90_rise_s"), t90Decay: try fit.double("t90_decay_s"),
            validMin: try fit.double("valid_min_ppm") ?? 0, validMax: try fit.double("valid_max_ppm") ?? 0, points: points)
    }
}
