import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelSim
import SnuffelWire

/// The true behaviour of a payload's sensors in a simulated calibration session: the
/// parameters `snuffel calibrate fit` should recover.
///
/// The models are those the fit assumes (see ``CalibrationFitter``), in the fit's domain:
/// `ln Rs` (neper) for MOX kinds, the raw reading otherwise.
public struct CalibrationTruth: Sendable {
    /// How one channel responds to one gas: MOX `Rs/R0 = scale · C^exponent`; other kinds
    /// `raw − zero = scale · C` (exponent unused).
    public struct GasResponse: Sendable {
        public var scale: Double
        public var exponent: Double

        public init(scale: Double, exponent: Double = 1) {
            self.scale = scale
            self.exponent = exponent
        }
    }

    public struct Channel: Sendable {
        /// MOX: ln R0 in neper at the reference temperature and humidity (for SRAW kinds,
        /// `offset × gain`); other kinds: the raw zero reading.
        public var zero: Double
        /// Domain units per °C from the channel's `ref_temp_c`.
        public var temperatureCoefficient: Double
        /// Domain units per g/m³ from the channel's `ref_abs_humidity`.
        public var humidityCoefficient: Double
        /// By gas name; a gas not listed gives no response.
        public var responses: [String: GasResponse]
        /// White noise, domain units (1σ).
        public var noise: Double

        public init(
            zero: Double, temperatureCoefficient: Double = 0, humidityCoefficient: Double = 0, responses: [String: GasResponse],
            noise: Double
        ) {
            self.zero = zero
            self.temperatureCoefficient = temperatureCoefficient
            self.humidityCoefficient = humidityCoefficient
            self.responses = responses
            self.noise = noise
        }
    }

    /// By channel id; channels not listed (temperature, humidity) read the conditions.
    public var channels: [String: Channel]

    public init(channels: [String: Channel]) { self.channels = channels }
}

/// A step of a simulated session with the climate it was run in.
public struct SimulatedStep: Sendable {
    public var step: CalibrationSteps.Step
    public var temperature: Double
    public var relativeHumidity: Double

    public init(_ step: CalibrationSteps.Step, temperature: Double = 25, relativeHumidity: Double = 50) {
        self.step = step
        self.temperature = temperature
        self.relativeHumidity = relativeHumidity
    }
}

/// Simulated calibration sessions with known true parameters, for tests and the shipped
/// example. Sensors follow their configured rise and decay time constants (``SensorState``
/// of SnuffelSim), noise comes from ``SeededGenerator``, and readings are clipped to the
/// channel's valid range, as a saturated sensor is.
public enum CalibrationSimulator {
    /// Raw samples of every channel at its rate, from 0 to the last step's end.
    /// - Parameters:
    ///   - noiseScale: Multiplies every channel's noise (0 for none).
    ///   - start: The first sample's time, µs (UNIX epoch for CSV files).
    public static func samples(
        channels: [ChannelSpec], truth: CalibrationTruth, steps: [SimulatedStep], noiseScale: Double = 1, seed: UInt64 = 1,
        start: UInt64 = 1_790_000_000_000_000
    ) -> [Sample] {
        guard let end = steps.last?.step.end else { return [] }
        var rng = SeededGenerator(seed: seed)
        var samples: [Sample] = []
        for (index, spec) in channels.enumerated() {
            let period = spec.rateHz > 0 ? 1 / spec.rateHz : 1
            let model = truth.channels[spec.id]
            var state = SensorState(riseTau: spec.riseTauSeconds, decayTau: spec.decayTauSeconds > 0 ? spec.decayTauSeconds : spec.riseTauSeconds)
            let sign: Double = spec.kind == .srawNOx ? 1 : -1  // MOX: which way a gas moves ln Rs
            var k = 0
            var t = 0.0
            var current = steps[0]
            while t <= end + 1e-9 {
                if let s = steps.last(where: { $0.step.start <= t + 1e-9 }) { current = s }
                let dT = current.temperature - spec.calibration.referenceTemperature
                let ah = Pipeline.absoluteHumidity(temperature: current.temperature, relativeHumidity: current.relativeHumidity)
                let dH = ah - spec.calibration.referenceAbsoluteHumidity
                var raw: Double
                switch spec.kind {
                case .temperature: raw = current.temperature + 0.02 * noiseScale * rng.gaussian()
                case .humidity: raw = current.relativeHumidity + 0.1 * noiseScale * rng.gaussian()
                default:
                    guard let model else { raw = spec.calibration.offset; break }
                    let inStep = t <= current.step.end + 1e-9
                    let response = inStep ? current.step.gas.flatMap { model.responses[$0] } : nil
                    let ppm = inStep ? current.step.ppm : 0
                    var input = 0.0
                    if let response, ppm > 0 {
                        input = spec.kind.isMOX ? sign * (log(response.scale) + response.exponent * log(ppm)) : response.scale * ppm
                    }
                    if k > 0 { state.advance(toward: input, over: period) }
                    let level = spec.kind.isMOX ? sign * state.level : state.level
                    let value = model.zero + model.temperatureCoefficient * dT + model.humidityCoefficient * dH + level
                        + model.noise * noiseScale * rng.gaussian()
                    switch spec.kind {
                    case .moxResistance: raw = exp(value)
                    case .srawVOC, .srawNOx: raw = value / spec.calibration.gain
                    default: raw = value
                    }
                }
                raw = min(max(raw, spec.validMin), spec.validMax)
                samples.append(Sample(channel: UInt16(index), time: start + UInt64((t * 1e6).rounded()), value: raw))
                k += 1
                t = Double(k) * period
            }
        }
        return samples.sorted { ($0.time, $0.channel) < ($1.time, $1.channel) }
    }

    /// The samples as a CSV file in the import format (`time_us`, one column per channel).
    public static func csv(channels: [ChannelSpec], samples: [Sample], comment: [String]) -> String {
        let writer = CSVSampleWriter(channels: channels, hasPosition: false)
        var out = comment.map { "# " + $0 + "\n" }.joined() + writer.header
        var i = 0
        while i < samples.count {
            var j = i
            while j < samples.count && samples[j].time == samples[i].time { j += 1 }
            out += writer.row(time: samples[i].time, samples: samples[i..<j])
            i = j
        }
        return out
    }

    /// The steps file of a simulated session.
    public static func stepsTOML(_ steps: [SimulatedStep], comment: [String]) -> String {
        var out = comment.map { "# " + $0 + "\n" }.joined()
        for s in steps {
            out += "\n[[steps]]\nstart_s = \(TOMLText.number(s.step.start))\nend_s = \(TOMLText.number(s.step.end))\n"
            out += "gas = \(TOMLText.string(s.step.gas ?? CalibrationSteps.blankGas))\n"
            if !s.step.isBlank { out += "ppm = \(TOMLText.number(s.step.ppm))\n" }
            out += "note = \(TOMLText.string("chamber at \(TOMLText.number(s.temperature)) °C, \(TOMLText.number(s.relativeHumidity)) % RH"))\n"
        }
        return out
    }

    /// Consecutive steps of `seconds` each from a list of (gas or nil for zero air, ppm,
    /// °C, % RH).
    public static func sequence(_ list: [(String?, Double, Double, Double)], seconds: Double) -> [SimulatedStep] {
        list.enumerated().map { i, item in
            SimulatedStep(
                CalibrationSteps.Step(index: i, start: Double(i) * seconds, end: Double(i + 1) * seconds, gas: item.0, ppm: item.1),
                temperature: item.2, relativeHumidity: item.3)
        }
    }

    /// The bench session shipped in calibration/sessions/: zero air and isobutylene at three
    /// climates (25 °C 50 %, 35 °C 50 %, 25 °C 80 %), then CO and ammonia at 25 °C, 120 s
    /// a step.
    public static let benchSteps: [SimulatedStep] = sequence([
        (nil, 0, 25, 50), ("isobutylene", 2, 25, 50), ("isobutylene", 5, 25, 50), ("isobutylene", 10, 25, 50),
        ("isobutylene", 20, 25, 50), ("isobutylene", 50, 25, 50), (nil, 0, 25, 50),
        (nil, 0, 35, 50), ("isobutylene", 10, 35, 50), ("isobutylene", 30, 35, 50),
        (nil, 0, 25, 80), ("isobutylene", 10, 25, 80), ("isobutylene", 30, 25, 80),
        (nil, 0, 25, 50), ("co", 10, 25, 50), ("co", 30, 25, 50), ("co", 100, 25, 50),
        (nil, 0, 25, 50), ("ammonia", 5, 25, 50), ("ammonia", 20, 25, 50), ("ammonia", 50, 25, 50),
        (nil, 0, 25, 50),
    ], seconds: 120)

    /// The true parameters of the bench unit (the channels of
    /// calibration/sessions/bench-0042.payload.toml).
    public static let benchTruth = CalibrationTruth(channels: [
        "gas_r": .init(
            zero: log(80_000), temperatureCoefficient: -0.015, humidityCoefficient: -0.025,
            responses: ["isobutylene": .init(scale: 0.55, exponent: -0.6), "co": .init(scale: 0.9, exponent: -0.3),
                        "ammonia": .init(scale: 0.85, exponent: -0.25)],
            noise: 0.004),
        "voc_raw": .init(
            zero: 30_000 * 4.0e-4, temperatureCoefficient: -0.01, humidityCoefficient: -0.02,
            responses: ["isobutylene": .init(scale: 0.5, exponent: -0.5), "co": .init(scale: 0.95, exponent: -0.1),
                        "ammonia": .init(scale: 0.9, exponent: -0.2)],
            noise: 0.004),
        "pid": .init(zero: 4, responses: ["isobutylene": .init(scale: 1050), "ammonia": .init(scale: 100)], noise: 3),
        "co": .init(zero: 0.05, temperatureCoefficient: 0.01, responses: ["co": .init(scale: 0.95)], noise: 0.02),
        "nh3": .init(zero: -0.1, temperatureCoefficient: -0.004, responses: ["ammonia": .init(scale: 1.08)], noise: 0.05),
    ])
}
