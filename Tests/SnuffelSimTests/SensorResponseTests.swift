import RealModule
import SnuffelCore
import SnuffelSim
import Testing

@Suite("The sensor response model")
struct SensorResponseTests {
    @Test("a step of concentration gives the first-order response with the configured τ, scaled")
    func stepResponse() {
        let channel = ChannelSpec(id: "pid", kind: .pid, rateHz: 10, riseTauSeconds: 2, decayTauSeconds: 5)
        let library = SignatureLibrary(
            compounds: [Compound(id: "x", name: "x", responses: ["pid": Response(perPPM: 1000, source: "test")])],
            classes: [])
        var rng = SeededGenerator(seed: 1)
        for tauScale in [0.7, 1.0, 1.5] {
            let model = SensorResponseModel(
                channels: [channel],
                responses: SensorResponseModel.drawResponses(channels: [channel], library: library, sensitivitySpread: 0, using: &rng),
                humidityCoefficients: [0], tauScale: tauScale)
            var state = model.initialState(channel: 0)
            let u = model.input(channel: 0, concentrations: [2])
            #expect(u.isApproximatelyEqual(to: 2000, relativeTolerance: 1e-12))
            // Rise: after τ the level is 1 − 1/e of the step, stepped finely.
            let dt = 0.01
            let rise = 2 * tauScale
            for _ in 0..<Int((rise / dt).rounded()) { state.advance(toward: u, over: dt) }
            #expect(state.level.isApproximatelyEqual(to: u * (1 - Double.exp(-1)), relativeTolerance: 1e-6))
            // Decay: after the decay τ the level is 1/e of where it started.
            let start = state.level
            let decay = 5 * tauScale
            for _ in 0..<Int((decay / dt).rounded()) { state.advance(toward: 0, over: dt) }
            #expect(state.level.isApproximatelyEqual(to: start * Double.exp(-1), relativeTolerance: 1e-6))
        }
    }

    @Test("a stressed payload is at least as far from its configuration as the harsh figures, and keeps what was worse")
    func stressedPayload() {
        let mild = SensorWorld(sensitivitySpread: 0.1, mixtureSpread: 0.4, tauScale: 0.8, dropProbability: 0.01,
                               noiseScale: 1.3, drift: 6, inletDelayError: -0.2, gpsNoise: 2, humidityMismatch: 0.01)
        let s = mild.stressed()
        #expect(s.sensitivitySpread == 0.5)
        #expect(s.mixtureSpread == 0.4, "a worse spread is kept")
        #expect(s.tauScale.isApproximatelyEqual(to: 1.2), "slower by half again")
        #expect(s.dropProbability == 0.05)
        #expect(s.drift == 6, "a worse drift is kept")
        #expect(s.inletDelayError == -0.5, "the delay error grows away from zero on its own side")
        #expect(s.humidityMismatch == 0.03)
        #expect(s.noiseScale == 1.3 && s.gpsNoise == 2, "noise and GPS are left alone")
        #expect(SensorWorld().stressed().inletDelayError == 0.5)
    }
}
