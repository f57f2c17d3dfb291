/// The `[detection]` settings of the pipeline, each with its default.
///
/// Times are in seconds, thresholds in noise standard deviations (σ) of the
/// noise-normalised signal. The payload configuration's `[detection]` section uses the
/// snake_case names given on each property.
public struct DetectionSettings: Sendable, Equatable {
    /// `warmup_s`: after the first sample of a channel, no hit is declared for this long
    /// while baseline and noise settle. Default 30.
    public var warmupSeconds: Double = 30
    /// `baseline_tau_s`: time constant with which the baseline (a level-and-trend
    /// tracker, so a steady ramp of drift leaves no lag) follows a signal above it.
    /// Default 120.
    public var baselineTauSeconds: Double = 120
    /// `baseline_down_tau_s`: the faster time constant with which the baseline catches up
    /// when a hold has expired. Default 20.
    public var baselineDownTauSeconds: Double = 20
    /// `baseline_max_freeze_s`: the baseline holds its level (following only its learnt
    /// trend) while a channel is in a hit, its excess is beyond `hit_on_sigma` on either
    /// side (some pixels respond to some gases by falling), or an event is open, but for
    /// at most this long; then it
    /// learns again so that a step in drift (a humidity change) cannot hold an event
    /// open for ever. Default 60.
    public var baselineMaxFreezeSeconds: Double = 60
    /// `smoothing_tau_s`: time constant of the one-pole low-pass denoiser. Default 0.5.
    public var smoothingTauSeconds: Double = 0.5
    /// `recovery_speedup`: the fast-response recovery turns a sensor with rise time
    /// constant τ into one with τ / speed-up (the low-pass is widened to that τ so that
    /// the noise gain is bounded by the speed-up; a decay slower than the rise is only
    /// inverted up to the same gain). 1 disables recovery. Default 4.
    public var recoverySpeedup: Double = 4
    /// `noise_tau_s`: time constant of the running noise variance, learnt outside hits.
    /// Default 60.
    public var noiseTauSeconds: Double = 60
    /// `hit_on_sigma`: a channel enters a hit when its smoothed or its recovered excess
    /// is above this many σ (each against its own noise). Default 5.
    public var hitOnSigma: Double = 5
    /// `hit_off_sigma`: a channel leaves a hit below this many σ. Default 2.
    public var hitOffSigma: Double = 2
    /// `hit_min_duration_s`: the signal must stay above `hit_on_sigma` this long before a
    /// hit is declared (rejects single-sample spikes). Default 0.3.
    public var hitMinDurationSeconds: Double = 0.3
    /// `hit_release_fraction`: a hit also ends when the recovered excess has fallen below
    /// this fraction of the hit's peak (a strong response decays slowly towards the noise;
    /// the plume has passed long before). A channel released this way must rise to twice
    /// its release level, or return to the noise first, before its next hit. Default 0.5.
    public var hitReleaseFraction: Double = 0.5
    /// `hit_release_s`: the signal must stay below `hit_off_sigma` this long before a hit
    /// ends. Default 1.
    public var hitReleaseSeconds: Double = 1
    /// `min_channels`: channels that must hit (aligned by their delays) for an event.
    /// Clamped to the number of gas channels. Default 2.
    public var minChannels: Int = 2
    /// `single_channel_sigma`: a hit this strong opens an event without waiting for other
    /// channels (a plume of a single gas, such as pure CO, that only one cell sees).
    /// Default 12.
    public var singleChannelSigma: Double = 12
    /// `coincidence_s`: hits of different channels whose inlet-time onsets lie within
    /// this window belong together. Default 8.
    public var coincidenceSeconds: Double = 8
    /// `event_gap_s`: an event ends when no channel has been in a hit for this long
    /// (inlet time). Default 5.
    public var eventGapSeconds: Double = 5
    /// `event_pre_s`, `event_post_s`: the evidence window extends the event by these
    /// margins so that slow tails are integrated. Defaults 2 and 10.
    public var eventPreSeconds: Double = 2
    public var eventPostSeconds: Double = 10
    /// `max_event_s`: an event is closed after this long even if hits go on. Default 120.
    public var maxEventSeconds: Double = 120
    /// `stale_after_s`: a channel with no sample for this long is stale: its filters restart
    /// on the next sample and events no longer wait for it. Default 10.
    public var staleAfterSeconds: Double = 10
    /// `model_tolerance`: relative error assumed of the signature library's responses
    /// when fitting an event (0.3 = 30 %). Default 0.35.
    public var modelTolerance: Double = 0.35
    /// `mox_model_tolerance`: the same for metal-oxide channels, whose responses are the
    /// least certain (nonlinear, humidity-sensitive, rise and decay at different speeds,
    /// and only illustrative in the shipped library). Default 1.2: a metal-oxide response
    /// may well be off by a factor of two from the library, so these channels say little
    /// about proportions. Over the bundled scenarios flown three times each (`snuffel
    /// evaluate --repeat 3`), 0.8 found 74 % of the labs and 1.2 76 %, with 3 false alarms
    /// either way; with a payload further from its configuration (`--stress`), 0.8 found
    /// 50 % of them and 1.2 64 %, false alarms unchanged.
    public var moxModelTolerance: Double = 1.2
    /// `mixture_stiffness`: how strongly a class's fitted compound fractions are held to
    /// the class's nominal fractions (0 = free, larger = stiffer). Default 1.
    public var mixtureStiffness: Double = 1
    /// `min_fit`: an event whose best class explains less than this fraction of the
    /// response is reported as `unknown`. Default 0.5.
    public var minFit: Double = 0.5
    /// `alert_confidence`: a detection whose best class is not a confounder is an alert
    /// when its confidence that the source is a lab or dump of any kind is at least this.
    /// Default 0.6.
    public var alertConfidence: Double = 0.6
    /// `humidity_transient_gm3`: an event whose hits are all on MOX channels while the
    /// absolute humidity moves by more than this (g/m³, against its 30 s mean) is a
    /// humidity artefact: counted in the pipeline's health, not reported as a detection.
    /// 0 turns the rule off. Default 0.5.
    public var humidityTransientGramsPerCubicMetre: Double = 0.5
    /// `gas_index_interval_s`: sampling interval handed to the VOC/NOx gas index
    /// algorithm; SGP41 samples are decimated to it. Default 1.
    public var gasIndexIntervalSeconds: Double = 1

    public init() {}

    /// The range a numeric setting must lie in.
    public enum Range: Sendable {
        /// Finite and above zero.
        case positive
        /// Finite and zero or above.
        case nonNegative
        /// Finite and at least one.
        case atLeastOne
        /// In [0, 1].
        case unit
        /// In [0, 1).
        case unitOpen

        func check(_ v: Double) -> String? {
            switch self {
            case .positive: return v.isFinite && v > 0 ? nil : "must be a positive finite number, got \(v)"
            case .nonNegative: return v.isFinite && v >= 0 ? nil : "must be zero or a positive finite number, got \(v)"
            case .atLeastOne: return v.isFinite && v >= 1 ? nil : "must be at least 1, got \(v)"
            case .unit: return v >= 0 && v <= 1 ? nil : "must lie in [0, 1], got \(v)"
            case .unitOpen: return v >= 0 && v < 1 ? nil : "must lie in [0, 1), got \(v)"
            }
        }
    }

    /// Every numeric `[detection]` key with the property it sets and its range: the one
    /// list that validation and the configuration loader share. `min_channels`, an
    /// integer, is the only other key.
    public static var numericKeys: [(key: String, path: WritableKeyPath<DetectionSettings, Double>, range: Range)] {
        [
            ("warmup_s", \.warmupSeconds, .nonNegative),
            ("baseline_tau_s", \.baselineTauSeconds, .positive),
            ("baseline_down_tau_s", \.baselineDownTauSeconds, .positive),
            ("baseline_max_freeze_s", \.baselineMaxFreezeSeconds, .positive),
            ("smoothing_tau_s", \.smoothingTauSeconds, .nonNegative),
            ("recovery_speedup", \.recoverySpeedup, .atLeastOne),
            ("noise_tau_s", \.noiseTauSeconds, .positive),
            ("hit_on_sigma", \.hitOnSigma, .positive),
            ("hit_off_sigma", \.hitOffSigma, .nonNegative),
            ("hit_min_duration_s", \.hitMinDurationSeconds, .nonNegative),
            ("hit_release_s", \.hitReleaseSeconds, .nonNegative),
            ("hit_release_fraction", \.hitReleaseFraction, .unitOpen),
            ("single_channel_sigma", \.singleChannelSigma, .positive),
            ("coincidence_s", \.coincidenceSeconds, .nonNegative),
            ("event_gap_s", \.eventGapSeconds, .positive),
            ("event_pre_s", \.eventPreSeconds, .nonNegative),
            ("event_post_s", \.eventPostSeconds, .nonNegative),
            ("max_event_s", \.maxEventSeconds, .positive),
            ("stale_after_s", \.staleAfterSeconds, .positive),
            ("model_tolerance", \.modelTolerance, .nonNegative),
            ("mox_model_tolerance", \.moxModelTolerance, .nonNegative),
            ("mixture_stiffness", \.mixtureStiffness, .nonNegative),
            ("min_fit", \.minFit, .unit),
            ("alert_confidence", \.alertConfidence, .unit),
            ("humidity_transient_gm3", \.humidityTransientGramsPerCubicMetre, .nonNegative),
            ("gas_index_interval_s", \.gasIndexIntervalSeconds, .positive),
        ]
    }

    /// Checks each setting's range and the settings that depend on each other.
    /// - Returns: `nil` when valid, else the snake_case key and the reason.
    public func validationError() -> (key: String, reason: String)? {
        for (key, path, range) in Self.numericKeys {
            if let reason = range.check(self[keyPath: path]) { return (key, reason) }
        }
        if minChannels < 1 { return ("min_channels", "must be at least 1, got \(minChannels)") }
        if hitOffSigma >= hitOnSigma {
            return ("hit_off_sigma", "must be below hit_on_sigma (\(hitOnSigma)), got \(hitOffSigma)")
        }
        if singleChannelSigma < hitOnSigma {
            return ("single_channel_sigma", "must be at least hit_on_sigma (\(hitOnSigma)), got \(singleChannelSigma)")
        }
        return nil
    }
}
