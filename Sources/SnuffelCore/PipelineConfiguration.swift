/// Everything a ``Pipeline`` needs: the channels, the detection settings and the
/// signature library.
public struct PipelineConfiguration: Sendable, Equatable {
    public var channels: [ChannelSpec]
    public var detection: DetectionSettings
    public var library: SignatureLibrary

    public init(channels: [ChannelSpec], detection: DetectionSettings = DetectionSettings(), library: SignatureLibrary) {
        self.channels = channels
        self.detection = detection
        self.library = library
    }

    /// Checks the whole configuration.
    /// - Returns: `nil` when valid, else a key path (`channels.pid.rate_hz`,
    ///   `detection.hit_on_sigma`, ...) and the reason.
    public func validationError() -> (key: String, reason: String)? {
        if channels.isEmpty { return ("channels", "a payload needs at least one channel") }
        if channels.count > Int(UInt16.max) { return ("channels", "at most \(UInt16.max) channels") }
        var ids = Set<String>()
        for c in channels {
            let key = "channels.\(c.id)"
            if c.id.isEmpty { return ("channels", "a channel has an empty id") }
            if !ids.insert(c.id).inserted { return (key, "duplicate channel id '\(c.id)'") }
            if !(c.rateHz.isFinite && c.rateHz > 0 && c.rateHz <= 10_000) {
                return (key + ".rate_hz", "must be in (0, 10000] Hz, got \(c.rateHz)")
            }
            if !(c.delaySeconds.isFinite && c.delaySeconds >= 0 && c.delaySeconds <= 60) {
                return (key + ".delay_s", "must be in [0, 60] s, got \(c.delaySeconds)")
            }
            if !(c.riseTauSeconds.isFinite && c.riseTauSeconds >= 0) { return (key + ".rise_tau_s", "must be ≥ 0") }
            if !(c.decayTauSeconds.isFinite && c.decayTauSeconds >= 0) { return (key + ".decay_tau_s", "must be ≥ 0") }
            if !(c.validMin < c.validMax) { return (key + ".valid_min", "valid_min must be below valid_max") }
            if c.kind == .electrochemical && (c.gas ?? "").isEmpty {
                return (key + ".gas", "an electrochemical channel must name its target gas (nh3, h2s, co, no2, ...)")
            }
            let cal = c.calibration
            let calKey = key + ".calibration"
            for (name, v) in [("offset", cal.offset), ("gain", cal.gain), ("temp_coeff", cal.temperatureCoefficient),
                              ("humidity_coeff", cal.humidityCoefficient), ("ref_temp_c", cal.referenceTemperature),
                              ("ref_abs_humidity", cal.referenceAbsoluteHumidity)] where !v.isFinite {
                return (calKey + "." + name, "must be finite, got \(v)")
            }
            if c.kind != .moxResistance && cal.gain == 0 { return (calKey + ".gain", "must not be zero") }
            if c.kind == .moxResistance && !(cal.offset > 0) {
                return (calKey + ".offset", "the reference resistance of a MOX channel must be positive (ohm), got \(cal.offset)")
            }
            if c.kind.isMOX && !(cal.moxExponent.isFinite && cal.moxExponent > 0) {
                return (calKey + ".mox_exponent", "must be positive, got \(cal.moxExponent)")
            }
            if !(cal.sensitivity.isFinite && cal.sensitivity > 0) { return (calKey + ".sensitivity", "must be positive") }
            if !(cal.noiseFloor.isFinite && cal.noiseFloor > 0) { return (calKey + ".noise_floor", "must be positive") }
        }
        if let (k, r) = detection.validationError() { return ("detection." + k, r) }
        if let (k, r) = library.validationError() { return ("signatures." + k, r) }
        return nil
    }
}
