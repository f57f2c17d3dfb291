import SnuffelCore
import SnuffelGeo
import Testing

@testable import SnuffelGround

@Suite("Labs localised apart from confounders")
struct SeparateKindsTests {
    /// A detection of a lab class (class 0) or a confounder (class 4) with a confidence.
    private func detection(_ sequence: Int, confounder: Bool, confidence: Double) -> Detection {
        Detection(sequence: sequence, onset: 0, peak: 0, end: 0, channels: [], signatureClass: confounder ? 4 : 0,
                  confidence: confidence, isConfounder: confounder, isAlert: !confounder, compounds: [], scores: [],
                  residual: 0.1, snr: 20)
    }

    /// `labs` hits behind the lab detection, then `confounders` behind the confounder's,
    /// then `unclassed` behind a detection without a class; one second each.
    private func flight(labs: Int, confounders: Int, unclassed: Int = 0)
        -> (hits: [(second: Int, look: PlumeObservation)], covering: [[Int]], detections: [Detection])
    {
        var unknown = detection(2, confounder: false, confidence: 0)
        unknown.signatureClass = nil
        let detections = [detection(0, confounder: false, confidence: 0.7), detection(1, confounder: true, confidence: 0.6), unknown]
        var hits: [(second: Int, look: PlumeObservation)] = []
        var covering: [[Int]] = []
        for (count, index) in [(labs, 0), (confounders, 1), (unclassed, 2)] {
            for _ in 0..<count {
                hits.append((covering.count, PlumeObservation(east: Double(covering.count), north: 0, hit: true)))
                covering.append([index])
            }
        }
        return (hits, covering, detections)
    }

    @Test("hits of both kinds in like shares: the larger kind stays, alone")
    func splitsLikeShares() throws {
        let f = flight(labs: 12, confounders: 20, unclassed: 3)
        let kept = try #require(Localisation.separateKinds(f.hits, covering: f.covering, detections: f.detections,
                                                           settings: LocalisationSettings()))
        #expect(kept.count == 20)
        #expect(kept.allSatisfy { f.covering[$0.second] == [1] })
        // The lab's hits are the larger kind here: they stay.
        let g = flight(labs: 20, confounders: 12)
        let labs = try #require(Localisation.separateKinds(g.hits, covering: g.covering, detections: g.detections,
                                                           settings: LocalisationSettings()))
        #expect(labs.count == 20 && labs.allSatisfy { g.covering[$0.second] == [0] })
    }

    @Test("a few hits of the other kind (class confusion in one plume), or none, stay with the source")
    func keepsOneSource() {
        let settings = LocalisationSettings()
        let share = settings.separateKindsShare ?? 0
        // Just under the share of 35 hits: one source.
        let few = Int((share * 35).rounded(.up)) - 1
        let f = flight(labs: 35 - few, confounders: few)
        #expect(Localisation.separateKinds(f.hits, covering: f.covering, detections: f.detections, settings: settings) == nil)
        // One more confounder hit, and they are two.
        let g = flight(labs: 35 - few - 1, confounders: few + 1)
        #expect(Localisation.separateKinds(g.hits, covering: g.covering, detections: g.detections, settings: settings) != nil)
        // Fewer hits than a source needs on one side: one source, whatever the shares.
        let h = flight(labs: settings.minimumHits - 1, confounders: settings.minimumHits)
        #expect(Localisation.separateKinds(h.hits, covering: h.covering, detections: h.detections, settings: settings) == nil)
        // Turned off.
        var off = settings
        off.separateKindsShare = nil
        let i = flight(labs: 20, confounders: 20)
        #expect(Localisation.separateKinds(i.hits, covering: i.covering, detections: i.detections, settings: off) == nil)
    }

    @Test("the most confident detection behind a hit decides its kind")
    func mostConfidentDecides() throws {
        var f = flight(labs: 10, confounders: 10)
        // Every lab hit is also covered by the confounder detection, which is less sure.
        for k in 0..<10 { f.covering[k] = [1, 0] }
        let kept = try #require(Localisation.separateKinds(f.hits, covering: f.covering, detections: f.detections,
                                                           settings: LocalisationSettings()))
        #expect(kept.count == 10)
        #expect(kept.allSatisfy { $0.second < 10 })  // ties go to the labs
    }
}
