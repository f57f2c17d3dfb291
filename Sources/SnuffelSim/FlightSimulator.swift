import RealModule
import SnuffelCore

/// Simulates a sniffer flight: plumes, the drone's path, what its sensors and GPS log, and
/// the ground truth.
///
/// The model, in the order the simulation runs:
///
/// 1. **Plumes** (``PuffPlume``, after Farrell et al. 2002, see ``PuffModel``): each source
///    releases puffs at its release rate, each holding `vapourLitresPerSecond / 1000 /
///    releaseHz` m³ of vapour, moving with the wind of their release (``WindProcess``:
///    mean wind with an Ornstein–Uhlenbeck meander of direction and speed; frozen
///    turbulence) and their own turbulent random walk, growing as `R(t) = (R₀^(2/3) +
///    γt)^(3/2)`, reflected by the ground. The plumes are spun up before the flight starts
///    (long enough for puffs to reach the far side of the flight area), so the flight
///    begins in established plumes.
/// 2. **Flight** (``FlightPlan``): constant ground speed along the pattern's polyline,
///    starting at its first corner at altitude, yaw along the track; roll and pitch tilt the
///    drone against the relative air (0.035 rad per m/s, at most 0.5 rad).
/// 3. **Inlet**: the air at the drone's true position is sampled on an internal grid of
///    `max(20 Hz, fastest channel, pose rate)`; each source's total ppm there (volume
///    fraction × 10⁶) is the inlet concentration and the ground truth.
/// 4. **Sensors** (``SensorResponseModel``): each gas channel sees the compounds of every
///    source (its class's proportions with the scenario's log-normal mixture spread) at
///    the inlet, delayed by its true delay (configured delay plus
///    ``SensorWorld/inletDelayError``), through the unit's true responses, its first-order
///    rise and decay (stepped on the internal grid, so short bursts between samples count),
///    the humidity effect (configured coefficient plus ``SensorWorld/humidityMismatch`` for
///    MOX channels) and the configured temperature effect, a random linear drift, white
///    noise of ``SensorWorld/noiseScale`` noise floors, and lost samples. Temperature and
///    humidity channels follow ``Environment`` through their own time constants.
/// 5. **GPS**: the logged position is the true one plus an Ornstein–Uhlenbeck error per axis
///    (σ ``SensorWorld/gpsNoise``, 1.5 times that vertically, time constant 30 s) plus 5 cm
///    of white noise.
///
/// Each part draws from its own random stream derived from the scenario's seed, so the
/// same scenario, payload and library give the same flight, and changing the payload does
/// not change the plumes.
public struct FlightSimulator: Sendable {
    public let scenario: Scenario
    public let channels: [ChannelSpec]
    public let library: SignatureLibrary
    /// Seconds simulated.
    public let duration: Double
    let path: FlightPath
    /// Nominal compound fractions of each source (library order, summing to 1).
    let nominalBlends: [[Double]]

    /// Monotonic µs at the flight's start: 30 s after boot.
    public static let monotonicStart: UInt64 = 30_000_000
    /// Encounters closer than this are merged, seconds.
    public static let encounterMergeGap = 5.0
    static let gpsTimeConstant = 30.0
    static let gpsWhiteNoise = 0.05
    static let tiltPerAirspeed = 0.035
    /// The plume is stepped this coarsely and sampled in between (see ``PuffPlume``), seconds.
    static let plumeStep = 0.5

    /// Checks the scenario against the payload and the library.
    /// - Throws: ``SimulationError`` naming what is wrong: an unknown class or compound, a
    ///   source or path beyond ±5 km, a speed ≤ 0, an empty flight, a value out of range.
    public init(scenario: Scenario, channels: [ChannelSpec], library: SignatureLibrary) throws(SimulationError) {
        try ScenarioValidation.check(scenario, channels: channels, library: library)
        self.scenario = scenario
        self.channels = channels
        self.library = library
        path = FlightPath(plan: scenario.flight)
        duration = scenario.duration ?? path.duration
        nominalBlends = scenario.sources.map { source in
            var blend = Array(repeating: 0.0, count: library.compounds.count)
            let components: [MixtureComponent]
            switch source.emission {
            case .signatureClass(let id):
                components = (library.classes.first { $0.id == id }?.components ?? []).map {
                    MixtureComponent(compound: $0.compound, fraction: $0.fraction)
                }
            case .mixture(let list):
                components = list
            }
            for c in components { if let j = library.compoundIndex(c.compound) { blend[j] += c.fraction } }
            let total = blend.reduce(0, +)
            return total > 0 ? blend.map { $0 / total } : blend
        }
    }

    /// The time the flight plan takes, seconds (without ``Scenario/duration``).
    public var planDuration: Double { path.duration }

    /// Rate of the internal grid on which the inlet is sampled and the sensors stepped, Hz.
    public var gridRate: Double {
        min(200, max(20, scenario.flight.poseRate, channels.map(\.rateHz).max() ?? 0))
    }

    /// Runs the simulation.
    /// - Parameter progress: Called now and then with the fraction done, 0 to 1.
    /// - Returns: The same flight for the same scenario, payload and library.
    public func run(progress: ((Double) -> Void)? = nil) -> SimulatedFlight {
        var seeds = SeededGenerator(seed: scenario.seed)
        let plumeSeed = seeds.next(), sensorSeed = seeds.next(), gpsSeed = seeds.next(), environmentSeed = seeds.next()
        let environment = EnvironmentSeries(scenario.environment, seed: environmentSeed)

        let grid = inletSeries(seed: plumeSeed) { progress?(0.9 * $0) }
        let samples = sensorSamples(grid: grid, environment: environment, seed: sensorSeed)
        progress?(0.95)
        let poses = self.poses(grid: grid, seed: gpsSeed)
        var wind: [SimWind] = []
        var second = 0
        while Double(second) <= duration {
            let k = min(grid.count - 1, Int((Double(second) * grid.rate).rounded(.up)))
            let v = grid.wind[k]
            wind.append(SimWind(time: Self.monotonic(Double(second)), north: v.north, east: v.east, down: -v.up))
            second += 1
        }
        let truth = GroundTruth(sources: truthSources(), encounters: encounters(grid: grid))
        progress?(1)
        return SimulatedFlight(
            channels: channels, samples: samples, poses: poses, wind: wind, monotonicStart: Self.monotonicStart,
            utcAtStart: scenario.startUTC, truth: truth)
    }

    static func monotonic(_ t: Double) -> UInt64 { monotonicStart + UInt64((max(0, t) * 1e6).rounded()) }

    // MARK: Plumes at the inlet

    /// Each source's ppm at the inlet, the wind and the drone's true position on the grid.
    struct InletSeries {
        let rate: Double
        let count: Int
        let sources: Int
        /// `ppm[k * sources + s]`
        var ppm: [Double]
        var wind: [ENU]
        var position: [ENU]

        /// The ppm of every source at `t` seconds (linear between grid points, 0 before the start).
        func ppm(at t: Double, into out: inout [Double]) {
            let x = t * rate
            if !(x >= 0) {
                for s in 0..<sources { out[s] = 0 }
                return
            }
            let k = min(count - 1, Int(x))
            let next = min(count - 1, k + 1)
            let f = min(1, x - Double(k))
            for s in 0..<sources {
                out[s] = ppm[k * sources + s] * (1 - f) + ppm[next * sources + s] * f
            }
        }
    }

    func inletSeries(seed: UInt64, progress: (Double) -> Void) -> InletSeries {
        let rate = gridRate
        let count = Int((duration * rate).rounded(.down)) + 1
        let box = path.bounds
        let region = PlumeRegion(minEast: box.minEast, maxEast: box.maxEast, minNorth: box.minNorth, maxNorth: box.maxNorth)
        let emitters = scenario.sources.map {
            PuffEmitter(position: $0.position, volumePerSecond: $0.vapourLitresPerSecond / 1000, releaseHz: $0.releaseHz)
        }
        // Spin-up: long enough for the first puffs to cross the whole flight area.
        var reach = 0.0
        for e in emitters {
            for (east, north) in [(box.minEast, box.minNorth), (box.minEast, box.maxNorth), (box.maxEast, box.minNorth), (box.maxEast, box.maxNorth)] {
                reach = max(reach, (ENU(east: east, north: north, up: 0) - e.position).horizontalLength)
            }
        }
        let step = Self.plumeStep
        let spinUp = (min(1200, (reach + 2 * region.margin) / (0.7 * scenario.wind.speed) + 10) / step).rounded(.up) * step
        var plume = PuffPlume(emitters: emitters, wind: scenario.wind, seed: seed, start: -spinUp, region: region,
                              negligiblePPM: 0.01 * scenario.truthThresholdPPM)
        plume.releaseAhead = step
        while plume.time < 0 { plume.advance(by: step) }

        let sources = emitters.count
        var series = InletSeries(
            rate: rate, count: count, sources: sources, ppm: Array(repeating: 0, count: count * sources),
            wind: Array(repeating: .zero, count: count), position: Array(repeating: .zero, count: count))
        var here = Array(repeating: 0.0, count: sources)
        var segment = 0
        let dt = 1 / rate
        let report = max(1, count / 50)
        for k in 0..<count {
            let t = Double(k) * dt
            while t >= plume.time + step { plume.advance(by: step) }
            let position = path.state(at: t, segment: &segment).position
            series.position[k] = position
            series.wind[k] = plume.wind.velocity
            plume.sample(at: position, after: t - plume.time, observerSpeed: path.speed, into: &here)
            for s in 0..<sources { series.ppm[k * sources + s] = here[s] }
            if k % report == 0 { progress(Double(k) / Double(count)) }
        }
        return series
    }

    // MARK: Sensors

    func sensorSamples(grid: InletSeries, environment: EnvironmentSeries, seed: UInt64) -> [Sample] {
        var rng = SeededGenerator(seed: seed)
        let world = scenario.sensors
        let model = SensorResponseModel(
            channels: channels,
            responses: SensorResponseModel.drawResponses(
                channels: channels, library: library, sensitivitySpread: world.sensitivitySpread, using: &rng),
            humidityCoefficients: channels.map { $0.calibration.humidityCoefficient + ($0.kind.isMOX ? world.humidityMismatch : 0) },
            tauScale: world.tauScale)
        // Each source's blend: its class's proportions with a log-normal spread, renormalised.
        let blends: [[(compound: Int, fraction: Double)]] = nominalBlends.map { nominal in
            var blend: [(Int, Double)] = []
            for (j, f) in nominal.enumerated() where f > 0 {
                blend.append((j, world.mixtureSpread > 0 ? f * Double.exp(world.mixtureSpread * rng.gaussian()) : f))
            }
            let total = blend.reduce(0) { $0 + $1.1 }
            return blend.map { ($0.0, $0.1 / total) }
        }
        // Drift: a random rate per gas channel, noise floors per hour.
        let driftPerSecond = channels.map { c in
            c.kind.isGas ? world.drift * rng.gaussian() * c.calibration.noiseFloor / 3600 : 0
        }

        var out: [Sample] = []
        var sourcePPM = Array(repeating: 0.0, count: grid.sources)
        var conc = Array(repeating: 0.0, count: library.compounds.count)
        func input(channel: Int, at t: Double) -> Double {
            grid.ppm(at: t, into: &sourcePPM)
            for j in conc.indices { conc[j] = 0 }
            for (s, blend) in blends.enumerated() where sourcePPM[s] != 0 {
                for (j, f) in blend { conc[j] += sourcePPM[s] * f }
            }
            return model.input(channel: channel, concentrations: conc)
        }
        for (ci, c) in channels.enumerated() {
            let period = 1 / c.rateHz
            let steps = Int(duration * c.rateHz) + 1
            let substeps = max(1, Int((period * grid.rate).rounded(.up)))
            let h = period / Double(substeps)
            let delay = max(0, c.delaySeconds + world.inletDelayError)
            var state = model.initialState(channel: ci)
            let noise: Double
            switch c.kind {
            case .temperature: noise = 0.02 * world.noiseScale
            case .humidity: noise = 0.1 * world.noiseScale
            default: noise = c.calibration.noiseFloor * world.noiseScale
            }
            for s in 0..<steps {
                let t = Double(s) * period
                if t > duration { break }
                let air = environment.at(t)
                var physical: Double
                switch c.kind {
                case .temperature, .humidity:
                    let target = c.kind == .temperature ? air.temperature : air.humidity
                    if s == 0 { state.level = target }
                    state.advance(toward: target, over: period)
                    physical = state.level
                default:
                    if s == 0 {
                        state.level = input(channel: ci, at: t - delay)
                    } else {
                        for i in 1...substeps {
                            let tau = t - period + Double(i) * h
                            state.advance(toward: input(channel: ci, at: tau - delay), over: h)
                        }
                    }
                    let ah = Pipeline.absoluteHumidity(temperature: air.temperature, relativeHumidity: air.humidity)
                    physical = model.physical(channel: ci, level: state.level, absoluteHumidity: ah)
                    physical += c.calibration.temperatureCoefficient * (air.temperature - c.calibration.referenceTemperature)
                    physical += driftPerSecond[ci] * t
                }
                guard let raw = SensorResponseModel.reading(
                    physical: physical, noise: noise, dropProbability: world.dropProbability, channel: c, using: &rng)
                else { continue }
                out.append(Sample(channel: UInt16(ci), time: Self.monotonic(t), value: Self.asReported(raw, channel: c)))
            }
        }
        out.sort { ($0.time, $0.channel) < ($1.time, $1.channel) }
        return out
    }

    /// A raw value as the part reports it: SRAW ticks are whole numbers within 0…65535.
    static func asReported(_ raw: Double, channel: ChannelSpec) -> Double {
        switch channel.kind {
        case .srawVOC, .srawNOx: return min(65535, max(0, raw.rounded()))
        case .moxResistance: return max(1, raw)
        default: return raw
        }
    }

    // MARK: Poses

    func poses(grid: InletSeries, seed: UInt64) -> [SimPose] {
        var rng = SeededGenerator(seed: seed)
        let sigma = scenario.sensors.gpsNoise
        let rate = scenario.flight.poseRate
        let count = Int(duration * rate) + 1
        let a = Double.exp(-1 / (rate * Self.gpsTimeConstant))
        let kick = (1 - a * a).squareRoot()
        var error = ENU(east: sigma * rng.gaussian(), north: sigma * rng.gaussian(), up: 1.5 * sigma * rng.gaussian())
        let white = sigma > 0 ? Self.gpsWhiteNoise : 0
        var segment = 0
        var yaw = 0.0
        if path.points.count >= 2 {
            let first = path.points[1] - path.points[0]
            yaw = Double.atan2(y: first.east, x: first.north)
        }
        var poses: [SimPose] = []
        poses.reserveCapacity(count)
        for i in 0..<count {
            let t = Double(i) / rate
            if t > duration { break }
            let (position, velocity) = path.state(at: t, segment: &segment)
            if i > 0 {
                error = ENU(east: error.east * a + sigma * kick * rng.gaussian(),
                            north: error.north * a + sigma * kick * rng.gaussian(),
                            up: error.up * a + 1.5 * sigma * kick * rng.gaussian())
            }
            if velocity.horizontalLength > 0.1 { yaw = Double.atan2(y: velocity.east, x: velocity.north) }
            // Tilt against the relative air: forward for a headwind, sideways for a crosswind.
            let k = min(grid.count - 1, Int((t * grid.rate).rounded()))
            let air = velocity - grid.wind[k]
            let forward = air.east * Double.sin(yaw) + air.north * Double.cos(yaw)
            let rightward = air.east * Double.cos(yaw) - air.north * Double.sin(yaw)
            let pitch = max(-0.5, min(0.5, -Self.tiltPerAirspeed * forward))
            let roll = max(-0.5, min(0.5, Self.tiltPerAirspeed * rightward))
            var logged = position + error
            var loggedVelocity = velocity
            if white > 0 {
                logged = logged + ENU(east: white * rng.gaussian(), north: white * rng.gaussian(), up: white * rng.gaussian())
                loggedVelocity = velocity + ENU(east: white * rng.gaussian(), north: white * rng.gaussian(), up: white * rng.gaussian())
            }
            poses.append(SimPose(time: Self.monotonic(t), position: logged, velocity: loggedVelocity, roll: roll, pitch: pitch,
                                 yaw: yaw, truePosition: position))
        }
        return poses
    }

    // MARK: Truth

    func truthSources() -> [TruthSource] {
        scenario.sources.map { s in
            let id = s.signatureClass
            return TruthSource(
                id: s.id, signatureClass: id, position: s.position, vapourLitresPerSecond: s.vapourLitresPerSecond,
                isConfounder: id.flatMap { c in library.classes.first { $0.id == c }?.isConfounder } ?? false)
        }
    }

    /// Spans above the threshold per source, gaps shorter than ``encounterMergeGap`` merged.
    func encounters(grid: InletSeries) -> [Encounter] {
        let threshold = scenario.truthThresholdPPM
        let mergeSteps = Int((Self.encounterMergeGap * grid.rate).rounded())
        let dt = 1 / grid.rate
        var result: [Encounter] = []
        for (s, source) in scenario.sources.enumerated() {
            var spans: [(first: Int, last: Int)] = []
            for k in 0..<grid.count where grid.ppm[k * grid.sources + s] > threshold {
                if let last = spans.last, k - last.last <= mergeSteps {
                    spans[spans.count - 1].last = k
                } else {
                    spans.append((k, k))
                }
            }
            for span in spans {
                var peak = span.first
                var dose = 0.0
                for k in span.first...span.last {
                    let v = grid.ppm[k * grid.sources + s]
                    dose += v * dt
                    if v > grid.ppm[peak * grid.sources + s] { peak = k }
                }
                result.append(Encounter(
                    sourceID: source.id, start: Self.monotonic(Double(span.first) * dt),
                    end: Self.monotonic(Double(span.last) * dt), peakTime: Self.monotonic(Double(peak) * dt),
                    peakPPM: grid.ppm[peak * grid.sources + s], dosePPMSeconds: dose, truePositionAtPeak: grid.position[peak]))
            }
        }
        result.sort { ($0.start, $0.sourceID) < ($1.start, $1.sourceID) }
        return result
    }
}

/// Temperature and humidity over the flight: the base values, the humidity step, and a slow
/// wander of humidity (two sinusoids of 7 and 2.8 minutes with random phases, amplitude
/// ``Environment/variation``), temperature wandering the other way by a tenth of it.
struct EnvironmentSeries: Sendable {
    let environment: Environment
    let phases: (Double, Double)

    init(_ environment: Environment, seed: UInt64) {
        self.environment = environment
        var rng = SeededGenerator(seed: seed)
        phases = (2 * .pi * rng.uniform(), 2 * .pi * rng.uniform())
    }

    func at(_ t: Double) -> (temperature: Double, humidity: Double) {
        let e = environment
        let wander = e.variation * (0.6 * Double.sin(2 * .pi * t / 420 + phases.0) + 0.4 * Double.sin(2 * .pi * t / 170 + phases.1))
        var rh = e.humidity + wander
        if let at = e.humidityStepAt, t >= at { rh += e.humidityStep }
        return (e.temperature - 0.1 * wander, min(100, max(0, rh)))
    }
}
