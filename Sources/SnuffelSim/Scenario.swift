/// A point or a displacement in local metres east, north and up of a scenario's site
/// origin (the site's latitude and longitude at ground level).
@frozen
public struct ENU: Sendable, Equatable, Hashable {
    public var east: Double
    public var north: Double
    public var up: Double

    @inlinable
    public init(east: Double, north: Double, up: Double) {
        self.east = east
        self.north = north
        self.up = up
    }

    public static let zero = ENU(east: 0, north: 0, up: 0)

    @inlinable public static func + (a: ENU, b: ENU) -> ENU { ENU(east: a.east + b.east, north: a.north + b.north, up: a.up + b.up) }
    @inlinable public static func - (a: ENU, b: ENU) -> ENU { ENU(east: a.east - b.east, north: a.north - b.north, up: a.up - b.up) }
    @inlinable public static func * (a: ENU, k: Double) -> ENU { ENU(east: a.east * k, north: a.north * k, up: a.up * k) }

    /// Length of the horizontal part, metres.
    @inlinable public var horizontalLength: Double { (east * east + north * north).squareRoot() }
    /// Length, metres.
    @inlinable public var length: Double { (east * east + north * north + up * up).squareRoot() }
}

/// Where a scenario takes place: the origin of its ENU frame, at ground level.
public struct Site: Sendable, Equatable {
    /// Degrees, WGS 84.
    public var latitude: Double
    public var longitude: Double
    /// Metres above mean sea level of the ground at the origin (the ground is flat).
    public var groundAltitude: Double

    public init(latitude: Double, longitude: Double, groundAltitude: Double = 0) {
        self.latitude = latitude
        self.longitude = longitude
        self.groundAltitude = groundAltitude
    }
}

/// The wind: a mean speed and direction with slow meander and gusts, and small-scale
/// turbulence that scatters each puff (see ``FlightSimulator`` for the model).
public struct Wind: Sendable, Equatable {
    /// Mean speed, m/s.
    public var speed: Double
    /// Meteorological direction: where the wind blows FROM, degrees clockwise from north
    /// (a wind from 270 blows towards the east).
    public var fromDegrees: Double
    /// Standard deviation of the direction's wander around its mean, degrees.
    public var meanderDegrees: Double
    /// Correlation time of the direction's wander, seconds.
    public var meanderTime: Double
    /// Standard deviation of the speed relative to the mean (0.2 = 20 %).
    public var gust: Double
    /// Standard deviation of each puff's own turbulent velocity, m/s (horizontal; half of
    /// it vertically).
    public var turbulence: Double

    public init(speed: Double, fromDegrees: Double, meanderDegrees: Double = 5, meanderTime: Double = 60,
                gust: Double = 0.15, turbulence: Double = 0.3) {
        self.speed = speed
        self.fromDegrees = fromDegrees
        self.meanderDegrees = meanderDegrees
        self.meanderTime = meanderTime
        self.gust = gust
        self.turbulence = turbulence
    }
}

/// Air temperature and humidity over the flight.
public struct Environment: Sendable, Equatable {
    /// °C.
    public var temperature: Double
    /// Relative humidity, %.
    public var humidity: Double
    /// A step of relative humidity, % (positive or negative), at ``humidityStepAt``.
    public var humidityStep: Double
    /// Seconds from the flight's start; `nil`: no step.
    public var humidityStepAt: Double?
    /// Amplitude of a slow wander of relative humidity, % (periods of several minutes);
    /// the temperature wanders the other way by a tenth of it, °C.
    public var variation: Double

    public init(temperature: Double = 20, humidity: Double = 60, humidityStep: Double = 0, humidityStepAt: Double? = nil,
                variation: Double = 0) {
        self.temperature = temperature
        self.humidity = humidity
        self.humidityStep = humidityStep
        self.humidityStepAt = humidityStepAt
        self.variation = variation
    }
}

/// How the simulated payload differs from its configuration, and how good its GPS is.
public struct SensorWorld: Sendable, Equatable {
    /// Log-normal spread (σ of ln) of each unit's true response to each compound around
    /// the library's.
    public var sensitivitySpread: Double
    /// Log-normal spread (σ of ln) of each source's compound proportions around its
    /// class's (no two vents emit the same blend); renormalised to sum to 1.
    public var mixtureSpread: Double
    /// Multiplies every sensor's rise and decay time constants.
    public var tauScale: Double
    /// Probability that a sample is lost.
    public var dropProbability: Double
    /// Multiplies each gas channel's noise floor to give its white noise σ (temperature
    /// 0.02 °C and humidity 0.1 % at 1).
    public var noiseScale: Double
    /// σ of each gas channel's random baseline drift rate, in units of its noise floor per
    /// hour.
    public var drift: Double
    /// The true inlet delay minus the configured one, seconds.
    public var inletDelayError: Double
    /// σ of the GPS position error, metres (horizontal; 1.5 times that vertically),
    /// correlated over about 30 s.
    public var gpsNoise: Double
    /// True humidity coefficient of MOX channels minus the configured one, neper per g/m³.
    public var humidityMismatch: Double

    public init(sensitivitySpread: Double = 0, mixtureSpread: Double = 0, tauScale: Double = 1, dropProbability: Double = 0,
                noiseScale: Double = 1, drift: Double = 0, inletDelayError: Double = 0, gpsNoise: Double = 0,
                humidityMismatch: Double = 0) {
        self.sensitivitySpread = sensitivitySpread
        self.mixtureSpread = mixtureSpread
        self.tauScale = tauScale
        self.dropProbability = dropProbability
        self.noiseScale = noiseScale
        self.drift = drift
        self.inletDelayError = inletDelayError
        self.gpsNoise = gpsNoise
        self.humidityMismatch = humidityMismatch
    }
}

extension SensorWorld {
    /// A payload further from its configuration than this one, for checking that detection
    /// does not depend on a payload that matches the library (`snuffel evaluate --stress`):
    /// responses spread by e^0.5 per unit and compound, source blends by e^0.3, sensors 1.5
    /// times slower than configured, 5 % of samples lost, drift of 4 noise floors per hour,
    /// the inlet delay off by 0.5 s and the MOX humidity coefficient by 0.03 per g/m³, or
    /// more where this payload already was worse. Noise and GPS stay as they are.
    public func stressed() -> SensorWorld {
        var s = self
        s.sensitivitySpread = max(sensitivitySpread, 0.5)
        s.mixtureSpread = max(mixtureSpread, 0.3)
        s.tauScale = tauScale * 1.5
        s.dropProbability = max(dropProbability, 0.05)
        s.drift = max(drift, 4)
        s.inletDelayError = inletDelayError < 0 ? min(inletDelayError, -0.5) : max(inletDelayError, 0.5)
        s.humidityMismatch = humidityMismatch < 0 ? min(humidityMismatch, -0.03) : max(humidityMismatch, 0.03)
        return s
    }
}

/// A lawnmower survey: parallel lines of ``length`` metres along ``heading``, ``spacing``
/// metres apart, covering ``width`` metres across, centred on (``centreEast``,
/// ``centreNorth``). The first line starts at the left-hand rear corner (seen along
/// ``heading``); lines alternate in direction.
public struct Lawnmower: Sendable, Equatable {
    public var centreEast: Double
    public var centreNorth: Double
    /// Extent across the lines, metres.
    public var width: Double
    /// Length of each line, metres.
    public var length: Double
    /// Distance between lines, metres.
    public var spacing: Double
    /// Direction of the lines, degrees clockwise from north.
    public var heading: Double
    /// Metres above ground.
    public var altitude: Double
    /// Ground speed, m/s.
    public var speed: Double

    public init(centreEast: Double = 0, centreNorth: Double = 0, width: Double, length: Double, spacing: Double,
                heading: Double = 0, altitude: Double, speed: Double) {
        self.centreEast = centreEast
        self.centreNorth = centreNorth
        self.width = width
        self.length = length
        self.spacing = spacing
        self.heading = heading
        self.altitude = altitude
        self.speed = speed
    }
}

/// The path of a flight.
public enum FlightPattern: Sendable, Equatable {
    case lawnmower(Lawnmower)
    /// Points in ENU with `up` the altitude above ground, flown in order at `speed` m/s.
    case waypoints([ENU], speed: Double)
}

/// The path of a flight and how often its poses are logged.
public struct FlightPlan: Sendable, Equatable {
    public var pattern: FlightPattern
    /// Poses per second in the simulated log.
    public var poseRate: Double

    public init(pattern: FlightPattern, poseRate: Double = 10) {
        self.pattern = pattern
        self.poseRate = poseRate
    }

    /// A lawnmower survey (see ``Lawnmower``).
    public static func lawnmower(_ plan: Lawnmower, poseRate: Double = 10) -> FlightPlan {
        FlightPlan(pattern: .lawnmower(plan), poseRate: poseRate)
    }

    /// A path through points (ENU, `up` above ground) at a constant speed.
    public static func waypoints(_ points: [ENU], speed: Double, poseRate: Double = 10) -> FlightPlan {
        FlightPlan(pattern: .waypoints(points, speed: speed), poseRate: poseRate)
    }
}

/// One compound of an explicit source mixture.
public struct MixtureComponent: Sendable, Equatable {
    /// A compound id of the signature library.
    public var compound: String
    /// Fraction of the vapour (normalised on use).
    public var fraction: Double

    public init(compound: String, fraction: Double) {
        self.compound = compound
        self.fraction = fraction
    }
}

/// What a source emits.
public enum Emission: Sendable, Equatable {
    /// A class id of the signature library: its components in their nominal proportions.
    case signatureClass(String)
    /// An explicit mixture of library compounds.
    case mixture([MixtureComponent])
}

/// A point source releasing vapour in puffs.
public struct Source: Sendable, Equatable {
    /// Unique within the scenario.
    public var id: String
    public var emission: Emission
    /// ENU metres; `up` is the release height above ground.
    public var position: ENU
    /// Volume of pure vapour released per second, litres (at the inlet, ppm = the local
    /// volume fraction × 10⁶).
    public var vapourLitresPerSecond: Double
    /// Puffs released per second.
    public var releaseHz: Double

    public init(id: String, emission: Emission, position: ENU, vapourLitresPerSecond: Double, releaseHz: Double = 4) {
        self.id = id
        self.emission = emission
        self.position = position
        self.vapourLitresPerSecond = vapourLitresPerSecond
        self.releaseHz = releaseHz
    }

    /// The class id, when the source emits a library class.
    public var signatureClass: String? {
        if case .signatureClass(let id) = emission { return id }
        return nil
    }
}

/// Everything a simulated flight depends on: the site, the weather, the payload's
/// imperfections, the flight plan and the sources. The same scenario and seed give the
/// same flight.
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var description: String
    public var seed: UInt64
    public var site: Site
    /// Microseconds since the UNIX epoch at the flight's start.
    public var startUTC: UInt64
    public var wind: Wind
    public var environment: Environment
    public var sensors: SensorWorld
    public var flight: FlightPlan
    public var sources: [Source]
    /// An encounter is a span where one source's total ppm at the inlet exceeds this.
    public var truthThresholdPPM: Double
    /// Seconds; `nil`: the flight plan's own time. A longer duration hovers at the end.
    public var duration: Double?

    public init(
        name: String, description: String = "", seed: UInt64 = 1, site: Site = Site(latitude: 51.45, longitude: 5.48),
        startUTC: UInt64 = 1_790_000_000_000_000, wind: Wind, environment: Environment = Environment(),
        sensors: SensorWorld = SensorWorld(), flight: FlightPlan, sources: [Source], truthThresholdPPM: Double = 0.05,
        duration: Double? = nil
    ) {
        self.name = name
        self.description = description
        self.seed = seed
        self.site = site
        self.startUTC = startUTC
        self.wind = wind
        self.environment = environment
        self.sensors = sensors
        self.flight = flight
        self.sources = sources
        self.truthThresholdPPM = truthThresholdPPM
        self.duration = duration
    }
}
