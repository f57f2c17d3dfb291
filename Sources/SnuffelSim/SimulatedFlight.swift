import SnuffelCore

/// One logged pose of the simulated drone.
public struct SimPose: Sendable, Equatable {
    /// Monotonic µs.
    public var time: UInt64
    /// The position the autopilot logs: the true one plus GPS error (ENU, `up` above the
    /// site's ground).
    public var position: ENU
    /// Ground velocity, m/s east, north, up.
    public var velocity: ENU
    /// Radians: roll positive right wing down, pitch positive nose up, yaw the heading
    /// clockwise from north in (−π, π].
    public var roll: Double
    public var pitch: Double
    public var yaw: Double
    /// Where the drone really was.
    public var truePosition: ENU

    public init(time: UInt64, position: ENU, velocity: ENU, roll: Double, pitch: Double, yaw: Double, truePosition: ENU) {
        self.time = time
        self.position = position
        self.velocity = velocity
        self.roll = roll
        self.pitch = pitch
        self.yaw = yaw
        self.truePosition = truePosition
    }
}

/// The wind at the site at one moment: where the air moves TO, m/s.
public struct SimWind: Sendable, Equatable {
    /// Monotonic µs.
    public var time: UInt64
    public var north: Double
    public var east: Double
    public var down: Double

    public init(time: UInt64, north: Double, east: Double, down: Double) {
        self.time = time
        self.north = north
        self.east = east
        self.down = down
    }
}

/// A source as the ground truth lists it.
public struct TruthSource: Sendable, Equatable {
    public var id: String
    /// The library class, or `nil` for an explicit mixture.
    public var signatureClass: String?
    public var position: ENU
    public var vapourLitresPerSecond: Double
    /// Whether the class is a confounder (an explicit mixture is not).
    public var isConfounder: Bool

    public init(id: String, signatureClass: String?, position: ENU, vapourLitresPerSecond: Double, isConfounder: Bool) {
        self.id = id
        self.signatureClass = signatureClass
        self.position = position
        self.vapourLitresPerSecond = vapourLitresPerSecond
        self.isConfounder = isConfounder
    }
}

/// A span of the flight during which one source's vapour at the inlet exceeded the
/// scenario's truth threshold (gaps shorter than 5 s merged). Times are monotonic µs at
/// the inlet: when the air entered it, before any delay of the sensors.
public struct Encounter: Sendable, Equatable {
    public var sourceID: String
    public var start: UInt64
    public var end: UInt64
    public var peakTime: UInt64
    /// Total ppm of the source's vapour at the inlet at the peak.
    public var peakPPM: Double
    /// ∫ ppm dt over the span, ppm·s.
    public var dosePPMSeconds: Double
    /// Where the drone really was at the peak.
    public var truePositionAtPeak: ENU

    public init(sourceID: String, start: UInt64, end: UInt64, peakTime: UInt64, peakPPM: Double, dosePPMSeconds: Double,
                truePositionAtPeak: ENU) {
        self.sourceID = sourceID
        self.start = start
        self.end = end
        self.peakTime = peakTime
        self.peakPPM = peakPPM
        self.dosePPMSeconds = dosePPMSeconds
        self.truePositionAtPeak = truePositionAtPeak
    }
}

/// What really happened in a simulated flight.
public struct GroundTruth: Sendable, Equatable {
    public var sources: [TruthSource]
    /// Sorted by start time.
    public var encounters: [Encounter]

    public init(sources: [TruthSource], encounters: [Encounter]) {
        self.sources = sources
        self.encounters = encounters
    }
}

/// A simulated flight: what the payload and autopilot would have logged, and the truth.
public struct SimulatedFlight: Sendable {
    public var channels: [ChannelSpec]
    /// Sorted by (time, channel); raw values in each channel's unit, as the payload reports
    /// them (SRAW ticks as whole numbers within 0…65535).
    public var samples: [Sample]
    /// At the flight plan's pose rate.
    public var poses: [SimPose]
    /// At 1 Hz.
    public var wind: [SimWind]
    /// Monotonic µs at the flight's start (30 s after boot).
    public var monotonicStart: UInt64
    /// UTC µs at the flight's start: `utc = time − monotonicStart + utcAtStart`.
    public var utcAtStart: UInt64
    public var truth: GroundTruth

    public init(channels: [ChannelSpec], samples: [Sample], poses: [SimPose], wind: [SimWind], monotonicStart: UInt64,
                utcAtStart: UInt64, truth: GroundTruth) {
        self.channels = channels
        self.samples = samples
        self.poses = poses
        self.wind = wind
        self.monotonicStart = monotonicStart
        self.utcAtStart = utcAtStart
        self.truth = truth
    }

    /// The UTC time (µs since the UNIX epoch) of a monotonic time of this flight.
    public func utc(_ monotonic: UInt64) -> UInt64 {
        monotonic >= monotonicStart ? utcAtStart + (monotonic - monotonicStart) : utcAtStart - min(utcAtStart, monotonicStart - monotonic)
    }
}

/// Why a scenario cannot be simulated.
public struct SimulationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong, as a key path into the scenario (`sources.dump.class`, `flight.speed`).
    public var key: String
    public var reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { key.isEmpty ? reason : "\(key): \(reason)" }
}
