import RealModule
import SnuffelCore

/// How a payload's sensors really respond: to gas, to humidity, in time — as opposed to
/// what the payload configuration says they do.
///
/// The model, shared by the flight simulator and `SnuffelTestSupport.SyntheticStream`:
///
/// 1. Each gas channel sees `u = Σ A·c` over the compounds at the sensor, where `A` is the
///    true response per ppm (the library's response times the unit's configured
///    sensitivity times a per-unit log-normal spread, drawn by
///    ``drawResponses(channels:library:sensitivitySpread:using:)``). MOX channels combine
///    the gases that raise and lower conductance as `(1 + Σ⁺) / (1 + Σ⁻) − 1`, so that a
///    signal can fall but never below zero conductance; other kinds add linearly.
/// 2. The sensor follows `u` through an asymmetric first-order response (``SensorState``):
///    the rise time constant while `u` is above the sensor's level, the decay time constant
///    while below, both multiplied by ``tauScale``.
/// 3. MOX channels turn the level into log-conductance, `β ln(1 + level)` neper (β = the
///    channel's `moxExponent`); then the humidity effect `k_H (AH − AH_ref)` is added, with
///    the *true* coefficient `k_H` of each channel.
/// 4. The caller adds drift, and ``reading(physical:noise:dropProbability:channel:using:)``
///    adds white noise, drops samples and turns the physical value into the channel's raw
///    unit (``raw(fromPhysical:channel:)``).
public struct SensorResponseModel: Sendable {
    public var channels: [ChannelSpec]
    /// True response of each channel per ppm of each compound of the library, in physical
    /// units (linearised MOX response for MOX kinds): `responses[channel][compound]`.
    public var responses: [[Double]]
    /// True humidity coefficient of each channel, physical units per g/m³.
    public var humidityCoefficients: [Double]
    /// Multiplies every channel's rise and decay time constants.
    public var tauScale: Double

    /// - Parameters:
    ///   - channels: The payload's channels.
    ///   - responses: `[channel][compound]` true responses per ppm; see
    ///     ``drawResponses(channels:library:sensitivitySpread:using:)``.
    ///   - humidityCoefficients: True humidity coefficient per channel (same order).
    ///   - tauScale: How much slower (> 1) or faster (< 1) the sensors are than configured.
    public init(channels: [ChannelSpec], responses: [[Double]], humidityCoefficients: [Double], tauScale: Double = 1) {
        self.channels = channels
        self.responses = responses
        self.humidityCoefficients = humidityCoefficients
        self.tauScale = tauScale
    }

    /// Draws the true response matrix: the library's response on each channel's kind times
    /// the channel's configured sensitivity times `exp(spread · N(0, 1))`.
    ///
    /// Draws one normal deviate per channel and compound, channel by channel, when
    /// `sensitivitySpread > 0`, and none otherwise.
    /// - Returns: `[channel][compound]`, compounds in library order.
    public static func drawResponses(
        channels: [ChannelSpec], library: SignatureLibrary, sensitivitySpread: Double, using rng: inout SeededGenerator
    ) -> [[Double]] {
        var truth: [[Double]] = []
        truth.reserveCapacity(channels.count)
        for c in channels {
            var row: [Double] = []
            row.reserveCapacity(library.compounds.count)
            for compound in library.compounds {
                let nominal = (compound.responses[c.responseKey]?.perPPM ?? 0) * c.calibration.sensitivity
                let spread = sensitivitySpread > 0 ? Double.exp(sensitivitySpread * rng.gaussian()) : 1
                row.append(nominal * spread)
            }
            truth.append(row)
        }
        return truth
    }

    /// The sensor's input `u` for the compound concentrations at its sensing element.
    /// - Parameters:
    ///   - channel: The channel's index.
    ///   - concentrations: ppm of each compound, in library order.
    /// - Complexity: O(number of compounds).
    public func input(channel: Int, concentrations: [Double]) -> Double {
        // MOX: gases that raise the signal add to the numerator, the others to the
        // denominator (G/G0 = (1 + Σ k⁺c) / (1 + Σ k⁻c)), so a signal can fall but never
        // below zero conductance. Other kinds add linearly.
        let row = responses[channel]
        var up = 0.0, down = 0.0
        for j in concentrations.indices where concentrations[j] != 0 {
            let r = row[j] * concentrations[j]
            if r >= 0 { up += r } else { down -= r }
        }
        return channels[channel].kind.isMOX ? (1 + up) / (1 + down) - 1 : up - down
    }

    /// A sensor at rest (level 0) with the channel's true time constants.
    public func initialState(channel: Int) -> SensorState {
        let c = channels[channel]
        return SensorState(
            riseTau: c.riseTauSeconds * tauScale,
            decayTau: (c.decayTauSeconds > 0 ? c.decayTauSeconds : c.riseTauSeconds) * tauScale)
    }

    /// The physical value of a gas channel at a sensor level: `β ln(1 + level)` for MOX
    /// kinds, the level itself otherwise, plus the true humidity effect.
    /// - Parameters:
    ///   - absoluteHumidity: g/m³ (see `Pipeline.absoluteHumidity(temperature:relativeHumidity:)`).
    public func physical(channel: Int, level: Double, absoluteHumidity: Double) -> Double {
        let c = channels[channel]
        var physical = c.kind.isMOX ? c.calibration.moxExponent * Double.log(max(1e-9, 1 + level)) : level
        physical += humidityCoefficients[channel] * (absoluteHumidity - c.calibration.referenceAbsoluteHumidity)
        return physical
    }

    /// Adds white noise, drops the sample with the given probability and converts to raw.
    ///
    /// Draws one normal deviate always, and one uniform deviate when `dropProbability > 0`.
    /// - Returns: The raw value, or `nil` when the sample is lost.
    public static func reading(
        physical: Double, noise: Double, dropProbability: Double, channel: ChannelSpec, using rng: inout SeededGenerator
    ) -> Double? {
        let value = physical + noise * rng.gaussian()
        if dropProbability > 0 && rng.uniform() < dropProbability { return nil }
        return raw(fromPhysical: value, channel: channel)
    }

    /// The inverse of the pipeline's conversion from raw to physical (without compensation).
    public static func raw(fromPhysical y: Double, channel c: ChannelSpec) -> Double {
        let cal = c.calibration
        switch c.kind {
        case .srawVOC: return cal.offset - y / cal.gain
        case .moxResistance: return cal.offset * Double.exp(-y)
        default: return y / cal.gain + cal.offset
        }
    }
}

/// The level of one sensor following its input through an asymmetric first-order
/// response: time constant ``riseTau`` while the input is above the level, ``decayTau``
/// while below; a time constant of 0 follows the input at once.
public struct SensorState: Sendable, Equatable {
    public var level = 0.0
    public var riseTau: Double
    public var decayTau: Double

    public init(level: Double = 0, riseTau: Double, decayTau: Double) {
        self.level = level
        self.riseTau = riseTau
        self.decayTau = decayTau
    }

    /// Moves the level towards `input` over `dt` seconds (exact for an input held
    /// constant over the step).
    public mutating func advance(toward input: Double, over dt: Double) {
        let tau = input > level ? riseTau : decayTau
        level = tau > 0 ? level + (input - level) * (1 - Double.exp(-dt / tau)) : input
    }
}
