/// What one channel showed during a detection.
public struct ChannelEvidence: Sendable, Equatable {
    /// Index of the channel in the payload's channel list.
    public var channel: Int
    /// Largest fast-response-recovered excess over baseline in the evidence window,
    /// physical units (neper for MOX channels).
    public var peakExcess: Double
    /// Largest noise-normalised excess, σ: the larger of the smoothed and the recovered
    /// excess, each against its own noise.
    public var peakSigma: Double
    /// Integral over the evidence window of the linearised excess, physical units × s
    /// (the quantity the classifier fits).
    public var area: Double
    /// Whether the channel itself declared a hit in the event.
    public var hit: Bool
    /// Fraction of the evidence window covered by accepted samples, 0...1. A channel
    /// below one half is left out of classification (missing is not zero).
    public var coverage: Double
    /// Samples of this channel rejected as out of range during the window (saturation).
    public var rejectedInWindow: Int

    public init(channel: Int, peakExcess: Double, peakSigma: Double, area: Double, hit: Bool, coverage: Double, rejectedInWindow: Int) {
        self.channel = channel
        self.peakExcess = peakExcess
        self.peakSigma = peakSigma
        self.area = area
        self.hit = hit
        self.coverage = coverage
        self.rejectedInWindow = rejectedInWindow
    }
}

/// A compound amount estimated from an event.
public struct CompoundEstimate: Sendable, Equatable {
    /// Index of the compound in the signature library.
    public var compound: Int
    /// Exposure (concentration integrated over the event), ppm × s.
    public var dose: Double
    /// Mean concentration over the event's hit time, ppm.
    public var meanPPM: Double

    public init(compound: Int, dose: Double, meanPPM: Double) {
        self.compound = compound
        self.dose = dose
        self.meanPPM = meanPPM
    }
}

/// How well one class explains an event.
public struct ClassScore: Sendable, Equatable {
    /// Index of the class in the signature library.
    public var signatureClass: Int
    /// Weighted residual plus mixture penalty as a fraction of the response, 0...1
    /// (smaller is better).
    public var misfit: Double

    public init(signatureClass: Int, misfit: Double) {
        self.signatureClass = signatureClass
        self.misfit = misfit
    }
}

/// One detected event: times, per-channel evidence, class and the reasons for it.
///
/// Times are inlet times: the sample time minus the channel's delay, so they say when
/// the air entered the inlet, on the samples' clock (µs).
public struct Detection: Sendable, Equatable {
    /// Running number of the detection in its pipeline, from 0.
    public var sequence: Int
    public var onset: UInt64
    public var peak: UInt64
    public var end: UInt64
    public var channels: [ChannelEvidence]
    /// Index of the winning class in the library, or nil for `unknown` (nothing fits).
    public var signatureClass: Int?
    /// Confidence in the class, 0...1.
    public var confidence: Double
    /// Confidence that the source is a lab or dump of any kind (the posterior weight of
    /// all non-confounder classes, with the same fit and signal factors), 0...1. Two lab
    /// classes that explain an event equally well split ``confidence`` but not this.
    public var threatConfidence: Double
    /// Whether the class is a confounder (never an alert).
    public var isConfounder: Bool
    /// Whether the detection should raise an alert: its class is not a confounder and
    /// ``threatConfidence`` is at or above `alert_confidence`.
    public var isAlert: Bool
    /// Compound estimates of the winning class's fit.
    public var compounds: [CompoundEstimate]
    /// Every class's misfit, best first.
    public var scores: [ClassScore]
    /// Fraction of the weighted response the winning fit leaves unexplained, 0...1.
    public var residual: Double
    /// Peak signal-to-noise of the event, σ (the largest channel `peakSigma`).
    public var snr: Double

    public init(
        sequence: Int, onset: UInt64, peak: UInt64, end: UInt64, channels: [ChannelEvidence],
        signatureClass: Int?, confidence: Double, threatConfidence: Double = 0, isConfounder: Bool, isAlert: Bool,
        compounds: [CompoundEstimate], scores: [ClassScore], residual: Double, snr: Double
    ) {
        self.sequence = sequence
        self.onset = onset
        self.peak = peak
        self.end = end
        self.channels = channels
        self.signatureClass = signatureClass
        self.confidence = confidence
        self.threatConfidence = threatConfidence
        self.isConfounder = isConfounder
        self.isAlert = isAlert
        self.compounds = compounds
        self.scores = scores
        self.residual = residual
        self.snr = snr
    }
}
