import SnuffelCore

/// Where a detection happened.
public struct Geotag: Sendable, Equatable {
    /// The inlet time that was tagged (the detection's peak), µs on the samples' clock.
    public var time: UInt64
    /// Where the drone was when the air of the peak entered the inlet.
    public var position: GeoPosition
    /// 1σ horizontal radius, metres (see ``Geotagger`` for the model).
    public var uncertainty: Double
    /// Where the drone was at the detection's onset, when the track has a position then.
    public var onsetPosition: GeoPosition?
    /// Where the drone was at the detection's end, when the track has a position then.
    /// With ``onsetPosition``, the stretch of track that smelled it.
    public var endPosition: GeoPosition?

    /// Creates a geotag.
    /// - Parameters:
    ///   - time: The inlet time that was tagged, µs.
    ///   - position: Where the drone was then.
    ///   - uncertainty: 1σ horizontal radius, metres.
    ///   - onsetPosition: Where the drone was at onset, when known.
    ///   - endPosition: Where the drone was at the end, when known.
    public init(time: UInt64, position: GeoPosition, uncertainty: Double, onsetPosition: GeoPosition? = nil, endPosition: GeoPosition? = nil) {
        self.time = time
        self.position = position
        self.uncertainty = uncertainty
        self.onsetPosition = onsetPosition
        self.endPosition = endPosition
    }
}

/// Why a detection could not be geotagged.
public enum GeotagFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The time looked up on the track (peak plus `extraDelay`, µs) is more than 1 s
    /// before its first or after its last fix (0 when that time would be negative).
    case outsideTrack(time: UInt64)
    /// The time looked up falls inside a gap between fixes longer than the track's
    /// `maximumGap`; `gapSeconds` is the gap's length.
    case inGap(time: UInt64, gapSeconds: Double)
    /// The track has no fixes.
    case emptyTrack

    /// What went wrong, in a sentence.
    public var description: String {
        switch self {
        case .outsideTrack(let time):
            return "time \(time) µs is more than 1 s outside the pose track"
        case .inGap(let time, let gapSeconds):
            return "time \(time) µs falls in a \(gapSeconds) s gap between pose fixes"
        case .emptyTrack:
            return "the pose track is empty"
        }
    }
}

/// Geotags detections.
///
/// Detection times (onset, peak, end) are already inlet times: the pipeline subtracted
/// each channel's `delaySeconds` (inlet transport plus sensor dead time) and recovered the
/// first-order response. So the geotag is the track position at `detection.peak`, plus
/// `extraDelay` seconds of correction (default 0) for a known clock offset between
/// samples and poses.
///
/// The uncertainty is the 1σ horizontal radius
///
///     sqrt(gps² + (speed · σt)² + interpolation²)
///
/// where
/// - `gps` is the fix's `horizontalAccuracy`, or `gpsAccuracy` when the track does not
///   know it;
/// - `speed` is the drone's horizontal speed at the peak, m/s;
/// - `σt² = delayUncertainty² + min over the counted channels of
///   (sample period² / 12 + (0.25 · riseTau)²)`: the timing of the fastest counted channel
///   (quantisation by its sample period, and what remains of its rise time after
///   recovery). Counted are the channels with `hit == true` in `detection.channels`; if
///   none hit, all channels in the evidence. Evidence naming a channel index outside
///   `channels` is ignored, and a channel with no positive finite rate has no period term;
/// - `interpolation = speed · gap / 4`: linear interpolation's error grows with the
///   seconds between the two fixes interpolated between (0 at a fix).
public struct Geotagger: Sendable {
    /// The drone's track.
    public let track: PoseTrack
    /// The payload's channels, indexed as in `ChannelEvidence.channel`.
    public let channels: [ChannelSpec]
    /// 1σ horizontal GPS accuracy, metres, for fixes that do not state theirs.
    public let gpsAccuracy: Double
    /// 1σ uncertainty of the channels' `delaySeconds`, seconds.
    public let delayUncertainty: Double
    /// Seconds added to detection times before looking them up on the track.
    public let extraDelay: Double

    /// Creates a geotagger.
    /// - Parameters:
    ///   - track: The drone's track, on the samples' clock.
    ///   - channels: The payload's channels, indexed as in `ChannelEvidence.channel`.
    ///   - gpsAccuracy: 1σ horizontal GPS accuracy, metres, for fixes without their own.
    ///   - delayUncertainty: 1σ uncertainty of the channels' delays, seconds.
    ///   - extraDelay: Seconds added to detection times (a known clock offset between
    ///     samples and poses); a non-finite value counts as 0.
    public init(track: PoseTrack, channels: [ChannelSpec], gpsAccuracy: Double = 2.5, delayUncertainty: Double = 0.2, extraDelay: Double = 0) {
        self.track = track
        self.channels = channels
        self.gpsAccuracy = gpsAccuracy
        self.delayUncertainty = delayUncertainty
        self.extraDelay = extraDelay.isFinite ? extraDelay : 0
    }

    /// Geotags one detection.
    /// - Parameter detection: The detection, times in inlet time.
    /// - Returns: The geotag, or why there is none: ``GeotagFailure/emptyTrack``,
    ///   ``GeotagFailure/outsideTrack(time:)`` or ``GeotagFailure/inGap(time:gapSeconds:)``
    ///   for the peak (the onset and end positions are nil where the track has none).
    /// - Complexity: O(log n + c) for n fixes and c channels of evidence.
    public func tag(_ detection: Detection) -> Result<Geotag, GeotagFailure> {
        guard let time = trackTime(detection.peak) else {
            return .failure(track.points.isEmpty ? .emptyTrack : .outsideTrack(time: 0))
        }
        let fix: TrackFix
        switch track.lookup(time) {
        case .fix(let found): fix = found
        case .empty: return .failure(.emptyTrack)
        case .outside: return .failure(.outsideTrack(time: time))
        case .gap(let seconds): return .failure(.inGap(time: time, gapSeconds: seconds))
        }
        let gps = fix.horizontalAccuracy ?? gpsAccuracy
        let sigmaT = (delayUncertainty * delayUncertainty + channelTimingVariance(detection.channels)).squareRoot()
        let timing = fix.speed * sigmaT
        let interpolation = fix.speed * fix.gap / 4
        return .success(Geotag(
            time: detection.peak,
            position: fix.position,
            uncertainty: (gps * gps + timing * timing + interpolation * interpolation).squareRoot(),
            onsetPosition: trackTime(detection.onset).flatMap { track.fix(at: $0) }?.position,
            endPosition: trackTime(detection.end).flatMap { track.fix(at: $0) }?.position))
    }

    /// A detection time moved by `extraDelay`, saturating at `UInt64.max`; nil when it
    /// would be negative.
    private func trackTime(_ time: UInt64) -> UInt64? {
        let shift = (extraDelay * 1e6).rounded()
        let magnitude = shift.magnitude >= 1.8e19 ? UInt64.max : UInt64(shift.magnitude)
        if shift >= 0 {
            let (sum, overflow) = time.addingReportingOverflow(magnitude)
            return overflow ? .max : sum
        }
        return time >= magnitude ? time - magnitude : nil
    }

    /// The timing variance of the fastest counted channel, s²: (sample period)² / 12 +
    /// (0.25 · riseTau)²; 0 when no evidence names a known channel.
    private func channelTimingVariance(_ evidence: [ChannelEvidence]) -> Double {
        let anyHit = evidence.contains { $0.hit }
        var best: Double?
        for item in evidence where (item.hit || !anyHit) && channels.indices.contains(item.channel) {
            let spec = channels[item.channel]
            let period = spec.rateHz > 0 && spec.rateHz.isFinite ? 1 / spec.rateHz : 0
            let rise = 0.25 * spec.riseTauSeconds
            let variance = period * period / 12 + rise * rise
            if best.map({ variance < $0 }) ?? true { best = variance }
        }
        return best ?? 0
    }
}
