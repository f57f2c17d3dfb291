import SnuffelCore

/// Checks of a scenario against a payload and a library, each refusal naming the key.
enum ScenarioValidation {
    /// Sources and flight paths must lie within this many metres of the site origin.
    static let maximumDistance = 5000.0
    /// Longest flight simulated, seconds.
    static let maximumDuration = 4 * 3600.0

    /// Refuses what the simulator cannot simulate faithfully, with any payload and library.
    static func check(_ scenario: Scenario) throws(SimulationError) {
        func require(_ ok: Bool, _ key: String, _ reason: @autoclosure () -> String) throws(SimulationError) {
            if !ok { throw SimulationError(key: key, reason: reason()) }
        }
        func range(_ value: Double, _ key: String, _ low: Double, _ high: Double, _ unit: String = "") throws(SimulationError) {
            try require(value.isFinite && value >= low && value <= high, key,
                        "must be between \(low) and \(high)\(unit), got \(value)")
        }
        func positive(_ value: Double, _ key: String, atMost high: Double, _ unit: String = "") throws(SimulationError) {
            try require(value.isFinite && value > 0 && value <= high, key,
                        "must be greater than 0 and at most \(high)\(unit), got \(value)")
        }
        func withinSite(_ east: Double, _ north: Double, _ key: String) throws(SimulationError) {
            for (value, axis) in [(east, "east"), (north, "north")] {
                try require(value.isFinite && abs(value) <= maximumDistance, key + "." + axis,
                            "must lie within ±\(Int(maximumDistance)) m of the site origin, got \(value) m")
            }
        }

        try range(scenario.site.latitude, "site.latitude", -90, 90, "°")
        try range(scenario.site.longitude, "site.longitude", -180, 180, "°")
        try range(scenario.site.groundAltitude, "site.groundAltitude", -500, 9000, " m")

        let w = scenario.wind
        try range(w.speed, "wind.speed", 0.1, 40, " m/s (calm air is beyond the puff model)")
        try range(w.fromDegrees, "wind.fromDegrees", -360, 360, "°")
        try range(w.meanderDegrees, "wind.meanderDegrees", 0, 90, "°")
        try positive(w.meanderTime, "wind.meanderTime", atMost: 3600, " s")
        try range(w.gust, "wind.gust", 0, 1)
        try range(w.turbulence, "wind.turbulence", 0, 5, " m/s")

        let e = scenario.environment
        try range(e.temperature, "environment.temperature", -40, 60, " °C")
        try range(e.humidity, "environment.humidity", 0, 100, " %")
        try range(e.humidityStep, "environment.humidityStep", -100, 100, " %")
        try require(e.humidity + e.humidityStep >= 0 && e.humidity + e.humidityStep <= 100, "environment.humidityStep",
                    "takes the humidity to \(e.humidity + e.humidityStep) %, outside 0–100 %")
        if let at = e.humidityStepAt { try range(at, "environment.humidityStepAt", 0, maximumDuration, " s") }
        try range(e.variation, "environment.variation", 0, 50, " %")

        let s = scenario.sensors
        try range(s.sensitivitySpread, "sensors.sensitivitySpread", 0, 2)
        try range(s.mixtureSpread, "sensors.mixtureSpread", 0, 2)
        try range(s.tauScale, "sensors.tauScale", 0.05, 20)
        try range(s.dropProbability, "sensors.dropProbability", 0, 0.9)
        try range(s.noiseScale, "sensors.noiseScale", 0, 100)
        try range(s.drift, "sensors.drift", 0, 10_000, " noise floors per hour")
        try range(s.inletDelayError, "sensors.inletDelayError", -30, 30, " s")
        try range(s.gpsNoise, "sensors.gpsNoise", 0, 100, " m")
        try range(s.humidityMismatch, "sensors.humidityMismatch", -1, 1, " neper per g/m³")

        try positive(scenario.flight.poseRate, "flight.poseRate", atMost: 100, " Hz")
        switch scenario.flight.pattern {
        case .lawnmower(let m):
            try withinSite(m.centreEast, m.centreNorth, "flight.centre")
            try range(m.width, "flight.width", 0, 2 * maximumDistance, " m")
            try positive(m.length, "flight.length", atMost: 2 * maximumDistance, " m")
            try positive(m.spacing, "flight.spacing", atMost: 2 * maximumDistance, " m")
            try require(m.width / m.spacing <= 1000, "flight.spacing", "makes more than 1000 lines across \(m.width) m")
            try range(m.heading, "flight.heading", -360, 360, "°")
            try range(m.altitude, "flight.altitude", 0.5, 500, " m above ground")
            try positive(m.speed, "flight.speed", atMost: 30, " m/s")
        case .waypoints(let points, let speed):
            try require(points.count >= 2, "flight.waypoints", "a flight needs at least two waypoints, got \(points.count)")
            for (i, p) in points.enumerated() {
                try withinSite(p.east, p.north, "flight.waypoints[\(i)]")
                try range(p.up, "flight.waypoints[\(i)].up", 0.5, 500, " m above ground")
            }
            try positive(speed, "flight.speed", atMost: 30, " m/s")
        }
        let path = FlightPath(plan: scenario.flight)
        try require(path.length > 0, "flight", "the flight path has no length: nothing to fly")
        try require(path.duration <= maximumDuration, "flight",
                    "the flight takes \(Int(path.duration)) s, more than the \(Int(maximumDuration)) s simulated at most")
        if let d = scenario.duration { try positive(d, "duration", atMost: maximumDuration, " s") }
        try positive(scenario.truthThresholdPPM, "truthThresholdPPM", atMost: 1e6, " ppm")

        var ids = Set<String>()
        for (index, source) in scenario.sources.enumerated() {
            let key = source.id.isEmpty ? "sources[\(index)]" : "sources.\(source.id)"
            try require(!source.id.isEmpty, key + ".id", "a source needs an id")
            try require(ids.insert(source.id).inserted, key + ".id", "duplicate source id '\(source.id)'")
            if case .mixture(let components) = source.emission {
                try require(!components.isEmpty, key + ".mixture", "a mixture needs at least one compound")
                for c in components { try positive(c.fraction, key + ".mixture.\(c.compound)", atMost: 1e6) }
            }
            try withinSite(source.position.east, source.position.north, key + ".position")
            try range(source.position.up, key + ".position.up", 0, 300, " m above ground")
            try positive(source.vapourLitresPerSecond, key + ".vapourLitresPerSecond", atMost: 1e4, " L/s")
            try positive(source.releaseHz, key + ".releaseHz", atMost: 50, " Hz")
        }
    }

    /// Refuses a scenario the simulator cannot simulate with this payload and library: the
    /// checks of ``check(_:)`` and classes, compounds and channels.
    static func check(_ scenario: Scenario, channels: [ChannelSpec], library: SignatureLibrary) throws(SimulationError) {
        try check(scenario)
        func require(_ ok: Bool, _ key: String, _ reason: @autoclosure () -> String) throws(SimulationError) {
            if !ok { throw SimulationError(key: key, reason: reason()) }
        }
        for source in scenario.sources {
            let key = "sources.\(source.id)"
            switch source.emission {
            case .signatureClass(let id):
                try require(library.classes.contains { $0.id == id }, key + ".class",
                            "unknown class '\(id)'; the library has \(library.classes.map(\.id).joined(separator: ", "))")
            case .mixture(let components):
                for c in components {
                    try require(library.compoundIndex(c.compound) != nil, key + ".mixture.\(c.compound)",
                                "unknown compound '\(c.compound)'; the library has \(library.compounds.map(\.id).joined(separator: ", "))")
                }
            }
        }
        var channelIDs = Set<String>()
        for c in channels {
            try require(channelIDs.insert(c.id).inserted, "channels.\(c.id)", "duplicate channel id")
            for (value, name, high) in [(c.rateHz, "rateHz", 1000.0), (c.delaySeconds, "delaySeconds", 60),
                                        (c.riseTauSeconds, "riseTauSeconds", 3600), (c.decayTauSeconds, "decayTauSeconds", 3600)] {
                let low = name == "rateHz" ? Double.leastNonzeroMagnitude : 0
                try require(value.isFinite && value >= low && value <= high, "channels.\(c.id).\(name)",
                            "must be \(name == "rateHz" ? "greater than 0" : "at least 0") and at most \(high), got \(value)")
            }
            if c.kind == .srawVOC || c.kind == .srawNOx {
                try require(c.calibration.gain != 0 && c.calibration.gain.isFinite, "channels.\(c.id).calibration.gain",
                            "an SRAW channel needs a finite, non-zero gain")
            }
        }
        if let (key, reason) = library.validationError() { throw SimulationError(key: "library." + key, reason: reason) }
    }
}

extension Scenario {
    /// Checks what can be checked without a payload and a library: ranges, ids, the flight
    /// path, distances from the site origin.
    /// - Returns: `nil` when valid, else the offending key (a path of this type's
    ///   properties, e.g. `sources.dump.vapourLitresPerSecond`) and the reason.
    public func validationError() -> SimulationError? {
        do {
            try ScenarioValidation.check(self)
            return nil
        } catch {
            return error
        }
    }
}
