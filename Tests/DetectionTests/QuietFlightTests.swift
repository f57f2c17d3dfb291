import Testing
import SnuffelConfig
import SnuffelCore
import SnuffelTestSupport

/// Hours with no plume at all, but with everything else a real flight has: noise at
/// twice the payload's noise floors, drift on six channels (the VOC pixel by a factor
/// of three an hour), a humidity change the calibration does not compensate, and lost
/// samples. Nothing here may raise an alert, and detections must stay rare.
@Suite("Plume-free flights")
struct QuietFlightTests {
    @Test("four plume-free hours with drift and a humidity change raise no alert", arguments: [1, 2, 3, 4] as [UInt64])
    func quietHour(seed: UInt64) throws {
        let config = try shippedConfiguration()
        let channels = config.pipeline.channels
        var world = SyntheticWorld()
        world.noise = noiseFromFloors(channels).mapValues { $0 * 2 }
        world.drift = ["voc_raw": 0.0003, "gas_r": -0.0004, "nox_raw": 0.0001, "co": 0.0003, "pid": 0.01, "nh3": -0.0002]
        world.humidityCoefficient = ["voc_raw": 0.01, "gas_r": 0.015, "nox_raw": -0.005]
        world.humidityStep = seed % 2 == 0 ? -15 : 15
        world.humidityStepAt = 1800
        world.dropProbability = 0.02
        let stream = SyntheticStream(channels: channels, library: config.pipeline.library, events: [],
                                     world: world, duration: 3600)
        let pipeline = try Pipeline(configuration: config.pipeline)
        pipeline.process(stream.samples(seed: seed))
        pipeline.finish()
        let detections = pipeline.drainDetections()
        #expect(detections.allSatisfy { !$0.isAlert }, "an alert in a plume-free hour")
        #expect(detections.count <= 1, "\(detections.count) detections in a plume-free hour")
    }
}
