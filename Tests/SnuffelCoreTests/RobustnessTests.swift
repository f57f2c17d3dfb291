import Testing
import SnuffelCore
import SnuffelTestSupport

/// Streams whose sensors differ from what the pipeline is told: sensitivities off by a
/// log-normal factor (σ = 0.35), time constants 0.7× or 1.5×, drift on four channels,
/// 5 % of samples lost, and a humidity step the calibration does not compensate.
@Suite("Robustness to a world that differs from the configuration")
struct RobustnessTests {
    static func world(seed: Int) -> SyntheticWorld {
        var world = SyntheticWorld()
        world.noise = Fixtures.referenceNoise
        world.sensitivitySpread = 0.35
        world.tauScale = seed % 2 == 0 ? 1.5 : 0.7
        world.dropProbability = 0.05
        world.drift = ["voc_raw": 0.0002, "gas_r": -0.0003, "co": 0.001, "pid": 0.02]
        world.humidityCoefficient = ["voc_raw": 0.01, "gas_r": 0.015, "nox_raw": -0.005]
        world.humidityStep = 20
        world.humidityStepAt = 180
        return world
    }

    @Test("each class is found at its plume and nowhere else; confounders never alert")
    func mismatchedWorld() throws {
        let lib = Fixtures.miniLibrary()
        let channels = Fixtures.referenceChannels()
        var correct = 0
        var misplaced = 0
        var labAlerts = 0
        var confounderAlerts = 0
        var humidityArtefacts = 0
        let runs = 24
        for seed in 1...runs {
            let truth = ["lab", "manure", "exhaust"][seed % 3]
            let peaks: [String: Double] = ["lab": 0.5, "manure": 3.0, "exhaust": 8.0]
            let ppm = peaks[truth] ?? 1
            let event = try #require(SyntheticEvent.ofClass(truth, in: lib, totalPPM: ppm, start: 300, duration: 12))
            let stream = SyntheticStream(channels: channels, library: lib, events: [event],
                                         world: Self.world(seed: seed), duration: 500)
            let p = try Pipeline(configuration: PipelineConfiguration(channels: channels, library: lib))
            p.process(stream.samples(seed: UInt64(seed)))
            p.finish()
            humidityArtefacts += p.health.humidityArtefacts
            for d in p.drainDetections() {
                let onset = Double(d.onset - stream.startTime) / 1e6
                guard onset > 290 && onset < 320 else { misplaced += 1; continue }
                let name: String? = d.signatureClass.map { lib.classes[$0].id }
                if name == truth { correct += 1 }
                if d.isAlert { if truth == "lab" { labAlerts += 1 } else { confounderAlerts += 1 } }
            }
        }
        #expect(correct >= runs - 2, "\(correct) of \(runs) classified correctly")
        #expect(misplaced == 0, "\(misplaced) detections away from the plumes")
        #expect(confounderAlerts == 0)
        #expect(labAlerts >= runs / 3 - 2, "\(labAlerts) lab alerts of \(runs / 3)")
        // The humidity step was recognised, not silently dropped.
        #expect(humidityArtefacts >= runs / 2)
    }
}
