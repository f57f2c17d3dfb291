import Testing
import SnuffelCore
import SnuffelTestSupport

@Test func explore() throws {
    let lib = Fixtures.miniLibrary()
    let channels = Fixtures.referenceChannels()
    var world = SyntheticWorld()
    world.noise = Fixtures.referenceNoise
    let events = [
        SyntheticEvent.ofClass("lab", in: lib, totalPPM: 0.5, start: 100, duration: 15)!,
        SyntheticEvent.ofClass("manure", in: lib, totalPPM: 3, start: 250, duration: 20)!,
        SyntheticEvent.ofClass("exhaust", in: lib, totalPPM: 5, start: 400, duration: 10)!,
    ]
    let stream = SyntheticStream(channels: channels, library: lib, events: events, world: world, duration: 600)
    let samples = stream.samples(seed: 1)
    let p = try Pipeline(configuration: PipelineConfiguration(channels: channels, library: lib))
    p.process(samples)
    p.finish()
    for d in p.drainDetections() {
        let t0 = stream.startTime
        print("det onset", Double(d.onset - t0) / 1e6, "end", Double(d.end - t0) / 1e6, "class", d.signatureClass.map { lib.classes[$0].id } ?? "unknown", "conf", d.confidence, "snr", d.snr, "res", d.residual)
        for s in d.scores { print("   ", lib.classes[s.signatureClass].id, s.misfit) }
        for c in d.channels { print("   ch", channels[c.channel].id, "area", c.area, "peakσ", c.peakSigma, "hit", c.hit, "cov", c.coverage) }
    }
    print(p.health)
}
