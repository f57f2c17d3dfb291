import Testing
import SnuffelCore
import SnuffelTestSupport

@Test func debugTrace() throws {
    let lib = Fixtures.miniLibrary()
    let channels = Fixtures.referenceChannels()
    var world = SyntheticWorld()
    world.noise = Fixtures.referenceNoise
    let events = [
        SyntheticEvent.ofClass("lab", in: lib, totalPPM: 0.5, start: 100, duration: 15)!,
        SyntheticEvent.ofClass("exhaust", in: lib, totalPPM: 5, start: 400, duration: 10)!,
    ]
    let stream = SyntheticStream(channels: channels, library: lib, events: events, world: world, duration: 600)
    let samples = stream.samples(seed: 1)
    let p = try Pipeline(configuration: PipelineConfiguration(channels: channels, library: lib))
    var lastPrint = 0.0
    for s in samples {
        p.process(s)
        let t = Double(s.time - stream.startTime) / 1e6
        if t >= lastPrint + 5 {
            lastPrint = t
            var line = "t=\(t) open=\(p.isEventOpen)"
            for c in [4, 6] {
                let sn = p.snapshot(channel: c)!
                line += " | \(channels[c].id) x=\(String(sn.recovered).prefix(7)) s=\(String(sn.excess).prefix(7)) b=\(String(sn.baseline).prefix(7)) σ=\(String(sn.sigma).prefix(5)) hit=\(sn.inHit ? 1 : 0) n=\(String(sn.noise).prefix(6))"
            }
            print(line)
        }
    }
}
