import RealModule
import SnuffelCore
import SnuffelSim

/// A plume crossing in a synthetic stream: a mixture of compounds reaching the inlet in
/// intermittent puffs.
public struct SyntheticEvent: Sendable {
    /// Inlet time of the start, seconds from the stream start.
    public var start: Double
    public var duration: Double
    /// Compound ids with their concentration at the puff peaks, ppm.
    public var mixture: [(compound: String, ppm: Double)]
    /// Number of puffs in the crossing (intermittency); 1 gives one smooth bump.
    public var puffs: Int

    public init(start: Double, duration: Double, mixture: [(compound: String, ppm: Double)], puffs: Int = 4) {
        self.start = start
        self.duration = duration
        self.mixture = mixture
        self.puffs = puffs
    }

    /// The mixture of a library class scaled to a total peak concentration.
    public static func ofClass(_ id: String, in library: SignatureLibrary, totalPPM: Double,
                               start: Double, duration: Double, puffs: Int = 4) -> SyntheticEvent? {
        guard let k = library.classes.first(where: { $0.id == id }) else { return nil }
        let total = k.components.reduce(0) { $0 + $1.fraction }
        return SyntheticEvent(start: start, duration: duration,
                              mixture: k.components.map { ($0.compound, totalPPM * $0.fraction / total) }, puffs: puffs)
    }
}

/// How the synthetic sensors differ from the configuration the pipeline is given.
public struct SyntheticWorld: Sendable {
    /// Standard deviation of white noise per channel id, physical units.
    public var noise: [String: Double] = [:]
    /// Linear drift per channel id, physical units per second.
    public var drift: [String: Double] = [:]
    /// True humidity coefficient per channel id, physical units per g/m³ (the pipeline
    /// is told the calibration's value).
    public var humidityCoefficient: [String: Double] = [:]
    /// Relative humidity profile: base %, and a step of this many % at `humidityStepAt`.
    public var humidityBase = 50.0
    public var humidityStep = 0.0
    public var humidityStepAt = Double.infinity
    public var temperature = 20.0
    /// Log-normal spread of the true sensitivities around the library (σ of ln).
    public var sensitivitySpread = 0.0
    /// Log-normal spread of each plume's compound proportions around the mixture given
    /// (σ of ln): no two vents emit the same blend.
    public var mixtureSpread = 0.0
    /// Probability that a sample is lost.
    public var dropProbability = 0.0
    /// Multiplies each channel's rise/decay time constants (the real sensor is slower
    /// or faster than configured).
    public var tauScale = 1.0

    public init() {}
}

/// Builds a stream of raw samples for a payload from a library, events and a world.
///
/// The model: the concentration of each compound at the inlet is a sum of Gaussian puffs
/// inside each event, in time (no geometry: for plumes in space see `SnuffelSim`'s
/// `FlightSimulator`); the sensors respond as `SnuffelSim.SensorResponseModel` describes —
/// `u = Σ A·c` with a per-unit random sensitivity, through the inlet delay and an
/// asymmetric first-order response, MOX channels as `β ln(1 + u)` neper — and drift, the
/// humidity effect and noise are added before the physical value is turned back into the
/// channel's raw unit.
public struct SyntheticStream {
    public var channels: [ChannelSpec]
    public var library: SignatureLibrary
    public var events: [SyntheticEvent]
    public var world: SyntheticWorld
    public var duration: Double
    public var startTime: UInt64

    public init(channels: [ChannelSpec], library: SignatureLibrary, events: [SyntheticEvent],
                world: SyntheticWorld = SyntheticWorld(), duration: Double, startTime: UInt64 = 1_700_000_000_000_000) {
        self.channels = channels
        self.library = library
        self.events = events
        self.world = world
        self.duration = duration
        self.startTime = startTime
    }

    /// The samples, sorted by time (ties by channel index).
    public func samples(seed: UInt64) -> [Sample] {
        var rng = SeededGenerator(seed: seed)
        // Per-event puff centres and amplitudes.
        var puffs: [[(centre: Double, width: Double, amplitude: Double)]] = []
        for e in events {
            var list: [(Double, Double, Double)] = []
            let n = max(1, e.puffs)
            for p in 0..<n {
                let slot = e.duration / Double(n)
                let centre = e.start + slot * (Double(p) + 0.5) + (n > 1 ? (rng.uniform() - 0.5) * 0.5 * slot : 0)
                let width = n > 1 ? max(0.3, slot * (0.15 + 0.2 * rng.uniform())) : e.duration / 4
                let amplitude = n > 1 ? 0.4 + 0.6 * rng.uniform() : 1
                list.append((centre, width, amplitude))
            }
            puffs.append(list)
        }
        // Each plume's blend: the mixture's proportions with a log-normal spread.
        let blend: [[Double]] = events.map { e in
            e.mixture.map { _ in world.mixtureSpread > 0 ? Double.exp(world.mixtureSpread * rng.gaussian()) : 1 }
        }
        // True response matrix, with per-unit spread.
        let model = SensorResponseModel(
            channels: channels,
            responses: SensorResponseModel.drawResponses(
                channels: channels, library: library, sensitivitySpread: world.sensitivitySpread, using: &rng),
            humidityCoefficients: channels.map { world.humidityCoefficient[$0.id] ?? 0 },
            tauScale: world.tauScale)
        let compoundIndex = Dictionary(uniqueKeysWithValues: library.compounds.enumerated().map { ($1.id, $0) })

        func concentrations(at t: Double, into c: inout [Double]) {
            for j in c.indices { c[j] = 0 }
            for (k, e) in events.enumerated() {
                if t < e.start - 3 * e.duration || t > e.start + 4 * e.duration { continue }
                var envelope = 0.0
                for p in puffs[k] {
                    let z = (t - p.centre) / p.width
                    if abs(z) < 6 { envelope += p.amplitude * Double.exp(-0.5 * z * z) }
                }
                if envelope == 0 { continue }
                for (m, (id, ppm)) in e.mixture.enumerated() {
                    if let j = compoundIndex[id] { c[j] += ppm * blend[k][m] * envelope }
                }
            }
        }

        var out: [Sample] = []
        var conc = Array(repeating: 0.0, count: library.compounds.count)
        for (ci, c) in channels.enumerated() {
            let period = 1 / c.rateHz
            let steps = Int(duration / period)
            var state = model.initialState(channel: ci)
            for s in 0..<steps {
                let t = Double(s) * period
                let rh = world.humidityBase + (t >= world.humidityStepAt ? world.humidityStep : 0)
                var physical: Double
                switch c.kind {
                case .temperature:
                    physical = world.temperature
                case .humidity:
                    physical = rh
                default:
                    concentrations(at: t - c.delaySeconds, into: &conc)
                    state.advance(toward: model.input(channel: ci, concentrations: conc), over: period)
                    let ah = Pipeline.absoluteHumidity(temperature: world.temperature, relativeHumidity: rh)
                    physical = model.physical(channel: ci, level: state.level, absoluteHumidity: ah)
                    physical += (world.drift[c.id] ?? 0) * t
                }
                guard let raw = SensorResponseModel.reading(
                    physical: physical, noise: world.noise[c.id] ?? 0, dropProbability: world.dropProbability,
                    channel: c, using: &rng)
                else { continue }
                out.append(Sample(channel: UInt16(ci), time: startTime + UInt64((t * 1e6).rounded()), value: raw))
            }
        }
        out.sort { ($0.time, $0.channel) < ($1.time, $1.channel) }
        return out
    }

    /// The inverse of the pipeline's conversion (without compensation).
    public static func raw(fromPhysical y: Double, channel c: ChannelSpec) -> Double {
        SensorResponseModel.raw(fromPhysical: y, channel: c)
    }
}
