/// What a channel measures, and so how its raw values become physical ones.
///
/// The raw value of each kind and the physical quantity the pipeline works in:
///
/// | kind | raw value | physical value after conversion |
/// | --- | --- | --- |
/// | `srawVOC` | SGP41 SRAW_VOC ticks | log-conductance, neper: `(offset - raw) * gain` |
/// | `srawNOx` | SGP41 SRAW_NOX ticks | log-resistance, neper: `(raw - offset) * gain` |
/// | `moxResistance` | heated-plate resistance, ohm | log-conductance, neper: `ln(offset / raw)` |
/// | `pid` | photoionization detector, ppb isobutylene-equivalent | `(raw - offset) * gain` |
/// | `electrochemical` | electrochemical cell, ppm of its target gas | `(raw - offset) * gain` |
/// | `temperature` | °C | `(raw - offset) * gain` |
/// | `humidity` | % relative humidity | `(raw - offset) * gain` |
///
/// MOX signals are carried as logarithms because a metal-oxide sensor's resistance
/// follows a power law of concentration; the sign is chosen so that the gas the pixel is
/// made for raises the signal (reducing gases for VOC and resistance channels, oxidizing
/// gases for the NOx pixel).
@frozen
public enum ChannelKind: String, CaseIterable, Sendable, Hashable {
    case srawVOC = "sraw_voc"
    case srawNOx = "sraw_nox"
    case moxResistance = "mox_resistance"
    case pid = "pid"
    case electrochemical = "electrochemical"
    case temperature = "temperature"
    case humidity = "humidity"

    /// Whether the kind senses gas (and so takes part in detection and classification).
    @inlinable
    public var isGas: Bool {
        switch self {
        case .temperature, .humidity: return false
        default: return true
        }
    }

    /// Whether the kind is a metal-oxide sensor (log signal, power-law response).
    @inlinable
    public var isMOX: Bool {
        switch self {
        case .srawVOC, .srawNOx, .moxResistance: return true
        default: return false
        }
    }

    /// The key under which the signature library lists a compound's response on this
    /// kind of channel: the kind's raw name, or `ec_<gas>` for electrochemical cells.
    public func responseKey(gas: String?) -> String {
        switch self {
        case .electrochemical: return "ec_" + (gas ?? "unknown")
        default: return rawValue
        }
    }
}

/// How one channel's raw values become physical values.
///
/// See ``ChannelKind`` for the conversion formula of each kind. The compensation terms
/// are subtracted from the physical value:
/// `y -= temperatureCoefficient * (T - referenceTemperature)
///     + humidityCoefficient * (AH - referenceAbsoluteHumidity)`,
/// where `AH` is absolute humidity in g/m³ computed from the payload's temperature and
/// humidity channels (no compensation while either is unknown).
public struct Calibration: Sendable, Equatable {
    /// The raw value that corresponds to zero (linear kinds), or the reference raw value
    /// (SRAW ticks, or resistance in ohm for `moxResistance`).
    public var offset: Double
    /// Physical units per raw unit (for SRAW kinds: neper per tick). Unused by
    /// `moxResistance`.
    public var gain: Double
    /// Physical units per °C away from `referenceTemperature`.
    public var temperatureCoefficient: Double
    /// Physical units per g/m³ of absolute humidity away from `referenceAbsoluteHumidity`.
    public var humidityCoefficient: Double
    public var referenceTemperature: Double
    public var referenceAbsoluteHumidity: Double
    /// MOX power-law exponent β: an excess `e` (neper) linearises to `exp(e / β) - 1`.
    /// Unused by other kinds.
    public var moxExponent: Double
    /// Multiplies the signature library's responses for this unit (1 = as listed).
    public var sensitivity: Double
    /// The smallest noise standard deviation, in physical units, the detector assumes.
    public var noiseFloor: Double

    public init(
        offset: Double = 0, gain: Double = 1,
        temperatureCoefficient: Double = 0, humidityCoefficient: Double = 0,
        referenceTemperature: Double = 25, referenceAbsoluteHumidity: Double = 10,
        moxExponent: Double = 0.5, sensitivity: Double = 1, noiseFloor: Double = 1e-6
    ) {
        self.offset = offset
        self.gain = gain
        self.temperatureCoefficient = temperatureCoefficient
        self.humidityCoefficient = humidityCoefficient
        self.referenceTemperature = referenceTemperature
        self.referenceAbsoluteHumidity = referenceAbsoluteHumidity
        self.moxExponent = moxExponent
        self.sensitivity = sensitivity
        self.noiseFloor = noiseFloor
    }
}

/// One channel of the payload, as declared in the payload configuration.
public struct ChannelSpec: Sendable, Equatable {
    /// Unique id, e.g. `voc_raw`, `pid`.
    public var id: String
    public var kind: ChannelKind
    /// Free text naming the part, e.g. `Sensirion SGP41`.
    public var sensor: String
    /// Raw unit, free text, e.g. `ticks`, `ohm`, `ppm`.
    public var unit: String
    /// Target gas of an electrochemical cell (`nh3`, `h2s`, `co`, `no2`, ...); nil otherwise.
    public var gas: String?
    /// Nominal sample rate in Hz; sizes the pipeline's history buffers.
    public var rateHz: Double
    /// Seconds from air entering the inlet to this channel's response (inlet transport
    /// plus sensor dead time). Fusion aligns channels by subtracting it.
    public var delaySeconds: Double
    /// First-order rise and decay time constants of the sensor, seconds; the fast-response
    /// recovery inverts them. 0 disables recovery for the channel.
    public var riseTauSeconds: Double
    public var decayTauSeconds: Double
    /// Raw values outside this range are rejected as out of the sensor's range.
    public var validMin: Double
    public var validMax: Double
    public var calibration: Calibration

    public init(
        id: String, kind: ChannelKind, sensor: String = "", unit: String = "", gas: String? = nil,
        rateHz: Double = 1, delaySeconds: Double = 0,
        riseTauSeconds: Double = 0, decayTauSeconds: Double = 0,
        validMin: Double = -Double.greatestFiniteMagnitude, validMax: Double = Double.greatestFiniteMagnitude,
        calibration: Calibration = Calibration()
    ) {
        self.id = id
        self.kind = kind
        self.sensor = sensor
        self.unit = unit
        self.gas = gas
        self.rateHz = rateHz
        self.delaySeconds = delaySeconds
        self.riseTauSeconds = riseTauSeconds
        self.decayTauSeconds = decayTauSeconds
        self.validMin = validMin
        self.validMax = validMax
        self.calibration = calibration
    }

    /// The signature library key of this channel's response (see ``ChannelKind/responseKey(gas:)``).
    public var responseKey: String { kind.responseKey(gas: gas) }
}

/// One raw reading: which channel, when, and what value.
///
/// Time is microseconds on the producer's clock (monotonic onboard, UNIX epoch UTC in
/// imported files). `status` carries the sensor's own status bits, opaque to the pipeline.
@frozen
public struct Sample: Sendable, Equatable {
    /// Index of the channel in the payload's channel list.
    public var channel: UInt16
    public var status: UInt16
    public var time: UInt64
    public var value: Double

    @inlinable
    public init(channel: UInt16, time: UInt64, value: Double, status: UInt16 = 0) {
        self.channel = channel
        self.status = status
        self.time = time
        self.value = value
    }
}
