import SnuffelCore
import Testing

@testable import SnuffelGeo

@Suite("Geotagger: position at the inlet time, uncertainty, failures")
struct GeotaggerTests {
    private let plane = LocalTangentPlane(origin: dutchOrigin)
    /// A PID at 10 Hz with a 0.3 s rise, a MOX at 1 Hz with a 4 s rise.
    private let channels = [
        ChannelSpec(id: "pid", kind: .pid, rateHz: 10, delaySeconds: 1.5, riseTauSeconds: 0.3),
        ChannelSpec(id: "voc_raw", kind: .srawVOC, rateHz: 1, delaySeconds: 2.5, riseTauSeconds: 4),
    ]

    private func detection(onset: Double, peak: Double, end: Double, hits: [Int: Bool] = [0: true, 1: true]) -> Detection {
        Detection(
            sequence: 0, onset: micros(onset), peak: micros(peak), end: micros(end),
            channels: hits.keys.sorted().map {
                ChannelEvidence(channel: $0, peakExcess: 1, peakSigma: 10, area: 1, hit: hits[$0] ?? false, coverage: 1, rejectedInWindow: 0)
            },
            signatureClass: nil, confidence: 0, isConfounder: false, isAlert: false,
            compounds: [], scores: [], residual: 0, snr: 10)
    }

    private func tag(_ d: Detection, speed: Double = 5, channels: [ChannelSpec]? = nil, extraDelay: Double = 0) throws -> Geotag {
        try Geotagger(track: eastboundTrack(speed: speed), channels: channels ?? self.channels, extraDelay: extraDelay).tag(d).get()
    }

    @Test("on a straight track at 5 m/s the geotag is the track position at the peak, within 1 cm")
    func position() throws {
        let g = try tag(detection(onset: 10.2, peak: 12.3, end: 15.9))
        #expect(g.time == micros(12.3))
        let o = plane.offset(of: g.position)
        #expect(close(o.east, 61.5, within: 0.01) && close(o.north, 0, within: 0.01), "\(o)")
        #expect(close(plane.offset(of: try #require(g.onsetPosition)).east, 51, within: 0.01))
        #expect(close(plane.offset(of: try #require(g.endPosition)).east, 79.5, within: 0.01))
        // A known clock offset moves the lookup, not the tagged time.
        let shifted = try tag(detection(onset: 10.2, peak: 12.3, end: 15.9), extraDelay: 0.5)
        #expect(shifted.time == micros(12.3))
        #expect(close(plane.offset(of: shifted.position).east, 64, within: 0.01))
        let back = try tag(detection(onset: 10.2, peak: 12.3, end: 15.9), extraDelay: -0.3)
        #expect(close(plane.offset(of: back.position).east, 60, within: 0.01))
    }

    @Test("the uncertainty is sqrt(gps² + (speed·σt)² + (speed·gap/4)²) of the fastest hit channel")
    func uncertaintyFormula() throws {
        let g = try tag(detection(onset: 10, peak: 12.5, end: 15))
        // Fastest hit channel: the PID, 0.1²/12 + (0.25 · 0.3)²; σt² adds 0.2².
        let sigmaT2 = 0.2 * 0.2 + 0.01 / 12 + 0.075 * 0.075
        let expected = (2.5 * 2.5 + 25 * sigmaT2 + (5 * 1.0 / 4) * (5 * 1.0 / 4)).squareRoot()
        #expect(close(g.uncertainty, expected, within: 1e-9), "\(g.uncertainty) vs \(expected)")
        // At a fix the interpolation term is 0.
        let atFix = try tag(detection(onset: 10, peak: 12, end: 15))
        #expect(close(atFix.uncertainty, (2.5 * 2.5 + 25 * sigmaT2).squareRoot(), within: 1e-9))
        // A fix's own accuracy replaces gpsAccuracy.
        let accurate = Geotagger(track: eastboundTrack(speed: 5, accuracy: 0.5), channels: channels)
        let own = try accurate.tag(detection(onset: 10, peak: 12, end: 15)).get()
        #expect(close(own.uncertainty, (0.25 + 25 * sigmaT2).squareRoot(), within: 1e-9))
    }

    @Test("the uncertainty grows with speed")
    func growsWithSpeed() throws {
        let d = detection(onset: 10, peak: 12.5, end: 15)
        let slow = try tag(d, speed: 2).uncertainty
        let medium = try tag(d, speed: 5).uncertainty
        let fast = try tag(d, speed: 10).uncertainty
        #expect(slow < medium && medium < fast, "\(slow) \(medium) \(fast)")
    }

    @Test("the uncertainty grows when only slower channels hit; with no hit, all channels count")
    func growsWithSlowerChannels() throws {
        let both = try tag(detection(onset: 10, peak: 12.5, end: 15)).uncertainty
        let moxOnly = try tag(detection(onset: 10, peak: 12.5, end: 15, hits: [0: false, 1: true])).uncertainty
        #expect(moxOnly > both, "\(moxOnly) vs \(both)")
        let sigmaT2 = 0.2 * 0.2 + 1.0 / 12 + 1.0
        #expect(close(moxOnly, (2.5 * 2.5 + 25 * sigmaT2 + 1.25 * 1.25).squareRoot(), within: 1e-9))
        let noneHit = try tag(detection(onset: 10, peak: 12.5, end: 15, hits: [0: false, 1: false])).uncertainty
        #expect(close(noneHit, both, within: 1e-12))
        // A slower PID (1 Hz, 2 s rise) makes the same detection less certain.
        var slowPID = channels
        slowPID[0].rateHz = 1
        slowPID[0].riseTauSeconds = 2
        let slower = try tag(detection(onset: 10, peak: 12.5, end: 15), channels: slowPID).uncertainty
        #expect(slower > both)
        // Evidence naming an unknown channel is ignored.
        let unknown = try tag(detection(onset: 10, peak: 12.5, end: 15, hits: [0: true, 7: true])).uncertainty
        #expect(close(unknown, both, within: 1e-12))
    }

    @Test("failures: empty track, outside the track, inside a gap")
    func failures() {
        let d = detection(onset: 10, peak: 12.5, end: 15)
        #expect(Geotagger(track: PoseTrack(points: [TrackPoint]()), channels: channels).tag(d) == .failure(.emptyTrack))
        let late = detection(onset: 70, peak: 75, end: 80)
        #expect(Geotagger(track: eastboundTrack(speed: 5), channels: channels).tag(late) == .failure(.outsideTrack(time: micros(75))))
        let shifted = Geotagger(track: eastboundTrack(speed: 5), channels: channels, extraDelay: -20)
        #expect(shifted.tag(d) == .failure(.outsideTrack(time: 0)))

        let gappy = PoseTrack(points: eastboundTrack(speed: 5).points.filter { $0.time <= micros(10) || $0.time >= micros(20) })
        let result = Geotagger(track: gappy, channels: channels).tag(d)
        #expect(result == .failure(.inGap(time: micros(12.5), gapSeconds: 10)))
        if case .failure(let failure) = result {
            #expect(failure.description.contains("10.0 s gap"))
        }
        // The onset in a gap does not fail the tag; it has no onset position.
        let onsetInGap = try? Geotagger(track: gappy, channels: channels).tag(detection(onset: 15, peak: 21, end: 22)).get()
        #expect(onsetInGap != nil && onsetInGap?.onsetPosition == nil && onsetInGap?.endPosition != nil)
    }
}
