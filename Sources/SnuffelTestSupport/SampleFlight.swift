import SnuffelCore

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
        var out = "# Snuffel sample flight: reference payload, synthetic plumes (see sample-core.truth.toml).\n"
        out += "# Made by SnuffelTestSupport.SampleFlight; regenerate with SNUFFEL_WRITE_SAMPLE=1 swift test --filter SampleFlight\n"
        out += "time_us," + channels.map(\.id).joined(separator: ",") + "\n"
        var i = 0
        while i < samples.count {
            let t = samples[i].time
            var cells = Array(repeating: "", count: channels.count)
            while i < samples.count && samples[i].time == t {
                let s = samples[i]
                cells[Int(s.channel)] = format(s.value, kind: channels[Int(s.channel)].kind)
                i += 1
            }
            out += "\(t)," + cells.joined(separator: ",") + "\n"
        }
        return out
    }

    static func format(_ v: Double, kind: ChannelKind) -> String {
        switch kind {
        case .srawVOC, .srawNOx, .moxResistance: return String(Int64(v.rounded()))
        case .pid: return decimal(v, places: 2)
        case .electrochemical: return decimal(v, places: 4)
        case .temperature, .humidity: return decimal(v, places: 2)
        }
    }

    static func decimal(_ v: Double, places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let n = Int64((abs(v) * scale).rounded())
        let whole = n / Int64(scale)
        var fraction = String(n % Int64(scale))
        while fraction.count < places { fraction = "0" + fraction }
        return (v < 0 && n != 0 ? "-" : "") + "\(whole).\(fraction)"
    }
}
