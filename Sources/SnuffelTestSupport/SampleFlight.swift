import SnuffelCore
import SnuffelWire

/// The bundled sample (`flightlogs/sample-core.csv`): 15 minutes of the reference payload
/// crossing an MDMA lab vent, a manure pit, road exhaust, a solvent user and a drug-waste
/// dump, with drift, a humidity change and sensors that differ from the library.
public enum SampleFlight {
    public static let startTime: UInt64 = 1_790_000_000_000_000  // 2026-09-21T14:13:20Z
    public static let duration = 900.0
    public static let seed: UInt64 = 2026

    /// The plumes, in inlet time from the start (seconds), with their class and peak ppm.
    public static let plumes: [(start: Double, duration: Double, signatureClass: String, ppm: Double)] = [
        (150, 15, "mdma-synthesis", 1.5),
        (300, 20, "manure", 4),
        (430, 10, "exhaust", 8),
        (600, 12, "solvent", 2),
        (760, 18, "drug-waste", 2.5),
    ]

    public static func stream(channels: [ChannelSpec], library: SignatureLibrary) -> SyntheticStream {
        var world = SyntheticWorld()
        for c in channels {
            world.noise[c.id] = c.kind.isGas ? c.calibration.noiseFloor : (c.kind == .temperature ? 0.02 : 0.1)
        }
        world.sensitivitySpread = 0.25
        world.drift = ["voc_raw": 0.0001, "gas_r": -0.0002, "co": 0.0002]
        world.humidityStep = 12
        world.humidityStepAt = 520
        world.temperature = 18
        world.dropProbability = 0.01
        let events = plumes.compactMap {
            SyntheticEvent.ofClass($0.signatureClass, in: library, totalPPM: $0.ppm, start: $0.start, duration: $0.duration)
        }
        return SyntheticStream(channels: channels, library: library, events: events, world: world,
                               duration: duration, startTime: startTime)
    }

    /// The stream as CSV text in the import format, values rounded as the parts report them
    /// (SRAW ticks and ohms as integers).
    public static func csv(_ samples: [Sample], channels: [ChannelSpec]) -> String {
        let writer = CSVSampleWriter(channels: channels, hasPosition: false)
        var out = "# Snuffel sample flight: reference payload, synthetic plumes (see sample-core.truth.toml).\n"
        out += "# Made by SnuffelTestSupport.SampleFlight; regenerate with SNUFFEL_WRITE_SAMPLE=1 swift test --filter SampleFlight\n"
        out += writer.header
        var i = 0
        while i < samples.count {
            let t = samples[i].time
            var j = i
            while j < samples.count && samples[j].time == t { j += 1 }
            out += writer.row(time: t, samples: samples[i..<j])
            i = j
        }
        return out
    }
}
