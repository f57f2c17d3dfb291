import SnuffelCore
import TOMLKit

extension Calibration {
    /// The keys of a calibration table, in the order they are documented.
    static let configurationKeys = [
        "offset", "gain", "temp_coeff", "humidity_coeff", "ref_temp_c", "ref_abs_humidity",
        "mox_exponent", "sensitivity", "noise_floor",
    ]

    /// Loads a per-unit calibration file: a TOML file holding the calibration keys at its
    /// top level (`offset`, `gain`, `temp_coeff`, `humidity_coeff`, `ref_temp_c`,
    /// `ref_abs_humidity`, `mox_exponent`, `sensitivity`, `noise_floor`). Missing keys take
    /// the defaults of ``Calibration/init(offset:gain:temperatureCoefficient:humidityCoefficient:referenceTemperature:referenceAbsoluteHumidity:moxExponent:sensitivity:noiseFloor:)``.
    ///
    /// Ranges that depend on the channel kind (a MOX reference resistance must be positive,
    /// a gain must not be zero, ...) are checked when the payload is validated.
    /// - Parameter path: The calibration file.
    /// - Throws: ``ConfigurationError`` naming the file, the key and the reason.
    public static func load(path: String) throws(ConfigurationError) -> Calibration {
        let text = try ConfigurationFile.read(path: path)
        return try parse(text: text, path: path)
    }

    /// Parses the text of a per-unit calibration file (see ``load(path:)``).
    ///
    /// A `[fit]` table, which `snuffel calibrate fit` writes to record how the numbers were
    /// found (see ``CalibrationFitRecord``), is allowed and does not change the calibration.
    /// - Parameters:
    ///   - text: The TOML text.
    ///   - path: The file name used in error messages.
    public static func parse(text: String, path: String) throws(ConfigurationError) -> Calibration {
        let root = try ConfigurationFile.parse(text, file: path)
        return try Calibration(reading: TableReader(root, file: path, path: "", allowed: configurationKeys + ["fit"]))
    }

    /// Reads a calibration table, inline in the payload or at the top of a calibration file.
    init(reading table: TableReader) throws(ConfigurationError) {
        self.init()
        if let v = try table.double("offset") { offset = v }
        if let v = try table.double("gain") { gain = v }
        if let v = try table.double("temp_coeff") { temperatureCoefficient = v }
        if let v = try table.double("humidity_coeff") { humidityCoefficient = v }
        if let v = try table.double("ref_temp_c") { referenceTemperature = v }
        if let v = try table.double("ref_abs_humidity") { referenceAbsoluteHumidity = v }
        if let v = try table.double("mox_exponent") { moxExponent = v }
        if let v = try table.double("sensitivity") { sensitivity = v }
        if let v = try table.double("noise_floor") { noiseFloor = v }
    }
}

extension DetectionSettings {
    /// Every key the `[detection]` section accepts.
    static var configurationKeys: [String] {
        numericKeys.map(\.key) + ["min_channels"]
    }

    /// Reads a `[detection]` table; missing keys keep their defaults.
    init(reading table: TableReader) throws(ConfigurationError) {
        self.init()
        for (key, path, _) in Self.numericKeys {
            if let value = try table.double(key) { self[keyPath: path] = value }
        }
        if let value = try table.int("min_channels") { minChannels = value }
    }
}
