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
}
