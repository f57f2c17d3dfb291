import SnuffelCore
import SnuffelSim
import TOMLKit

extension Scenario {
    /// Loads a simulation scenario from a TOML file and checks it.
    ///
    /// The format (every table and key shown; keys marked optional take the default shown):
    ///
    /// ```toml
    /// name = "waste-dump-manure"                  # required
    /// description = "A drug-waste dump 60 m from a manure pit"   # optional
    /// seed = 7                                    # optional [1]; integer ≥ 0
    /// start_utc = 2026-09-21T14:00:00Z            # optional [2026-09-21T14:13:20Z]; a TOML
    ///                                             #   date-time with its offset (Z or ±hh:mm)
    /// duration_s = 600                            # optional [the flight plan's own time];
    ///                                             #   longer hovers at the last point
    /// truth_threshold_ppm = 0.05                  # optional [0.05]: an encounter is a span
    ///                                             #   where a source's ppm at the inlet exceeds it
    ///
    /// [site]                                      # required: the ENU origin, at ground level
    /// latitude = 51.45                            # required, degrees
    /// longitude = 5.48                            # required, degrees
    /// altitude_m = 20                             # optional [0]: ground, metres above sea level
    ///
    /// [wind]                                      # required
    /// speed_m_s = 3                               # required, 0.1–40
    /// from_deg = 240                              # required: where it blows FROM, clockwise from north
    /// meander_deg = 5                             # optional [5]: σ of the direction's wander
    /// meander_time_s = 60                         # optional [60]: its correlation time
    /// gust = 0.15                                 # optional [0.15]: σ of the speed, relative
    /// turbulence_m_s = 0.3                        # optional [0.3]: σ of each puff's own velocity
    ///
    /// [environment]                               # optional
    /// temperature_c = 18                          # optional [20]
    /// humidity_pct = 60                           # optional [60]
    /// humidity_step_pct = 10                      # optional [none]; with humidity_step_at_s
    /// humidity_step_at_s = 300                    #   seconds from the start
    /// variation_pct = 2                           # optional [0]: slow wander of humidity
    ///
    /// [sensors]                                   # optional: how the payload differs from its configuration
    /// sensitivity_spread = 0.25                   # optional [0]: σ of ln(true / library response)
    /// mixture_spread = 0.2                        # optional [0]: σ of ln(true / nominal proportion)
    /// tau_scale = 1.0                             # optional [1]: multiplies rise and decay τ
    /// drop_probability = 0.01                     # optional [0]: chance a sample is lost
    /// noise_scale = 1                             # optional [1]: white noise in noise floors
    /// drift_per_hour = 2                          # optional [0]: σ of drift, noise floors per hour
    /// inlet_delay_error_s = 0.2                   # optional [0]: true minus configured inlet delay
    /// gps_noise_m = 1.5                           # optional [0]: σ of GPS error (30 s correlation)
    /// humidity_mismatch = 0.01                    # optional [0]: MOX humidity coefficient error, neper per g/m³
    ///
    /// [flight]                                    # required
    /// pattern = "lawnmower"                       # required: "lawnmower" or "waypoints"
    /// speed_m_s = 5                               # required, ground speed
    /// pose_rate_hz = 10                           # optional [10]
    /// altitude_agl_m = 8                          # lawnmower: required; waypoints: default for
    ///                                             #   points given as [east, north]
    /// centre_east_m = 0                           # lawnmower: optional [0]
    /// centre_north_m = 0                          # lawnmower: optional [0]
    /// width_m = 200                               # lawnmower: required, extent across the lines
    /// length_m = 240                              # lawnmower: required, length of each line
    /// spacing_m = 20                              # lawnmower: required, between lines
    /// heading_deg = 0                             # lawnmower: optional [0], direction of the lines
    /// # waypoints = [[-100, 0, 10], [100, 0, 10]] # waypoints: required, [east, north(, up)] metres
    ///
    /// [[sources]]                                 # any number, including none
    /// id = "dump"                                 # required, unique
    /// class = "drug-waste"                        # a class of the signature library, or …
    /// # mixture = { formic_acid = 0.6, formamide = 0.4 }   # … compounds and fractions: one of the two
    /// east_m = 30                                 # required
    /// north_m = -20                               # required
    /// height_m = 1                                # optional [1]: release height above ground
    /// vapour_l_per_s = 0.05                       # required: litres of pure vapour per second
    /// release_hz = 4                              # optional [4]: puffs per second
    /// ```
    ///
    /// Every key is checked: an unknown key, a wrong type, a value out of range, an unknown
    /// pattern, a source with both `class` and `mixture` or neither, a duplicate source id
    /// are refused with a ``ConfigurationError`` naming the file, the key and the reason.
    /// Whether classes and compounds exist is checked against the signature library when
    /// the scenario is simulated (`FlightSimulator.init`).
    /// - Parameter path: The scenario file.
    public static func load(path: String) throws(ConfigurationError) -> Scenario {
        let text = try ConfigurationFile.read(path: path)
        return try parse(text: text, path: path)
    }

    /// Parses and checks the text of a scenario file (see ``load(path:)``).
    /// - Parameters:
    ///   - text: The TOML text.
    ///   - path: The file name used in error messages.
    public static func parse(text: String, path: String) throws(ConfigurationError) -> Scenario {
        let root = try TableReader(
            ConfigurationFile.parse(text, file: path), file: path, path: "",
            allowed: ["name", "description", "seed", "start_utc", "duration_s", "truth_threshold_ppm", "site", "wind",
                      "environment", "sensors", "flight", "sources"])
        let name = try root.requiredString("name", "the scenario's name")
        if name.allSatisfy(\.isWhitespace) { throw root.error("name", "must not be empty") }

        guard let siteTable = try root.table("site", allowed: ["latitude", "longitude", "altitude_m"]) else {
            throw root.missing("site", "a [site] table with the latitude and longitude of the origin")
        }
        let site = Site(
            latitude: try siteTable.requiredDouble("latitude", "degrees north of the origin"),
            longitude: try siteTable.requiredDouble("longitude", "degrees east of the origin"),
            groundAltitude: try siteTable.double("altitude_m") ?? 0)

        guard let windTable = try root.table(
            "wind", allowed: ["speed_m_s", "from_deg", "meander_deg", "meander_time_s", "gust", "turbulence_m_s"])
        else { throw root.missing("wind", "a [wind] table with at least speed_m_s and from_deg") }
        var wind = Wind(
            speed: try windTable.requiredDouble("speed_m_s", "the mean wind speed, m/s"),
            fromDegrees: try windTable.requiredDouble("from_deg", "where the wind blows from, degrees clockwise from north"))
        if let v = try windTable.double("meander_deg") { wind.meanderDegrees = v }
        if let v = try windTable.double("meander_time_s") { wind.meanderTime = v }
        if let v = try windTable.double("gust") { wind.gust = v }
        if let v = try windTable.double("turbulence_m_s") { wind.turbulence = v }

        var scenario = Scenario(
            name: name, description: try root.string("description") ?? "", site: site, wind: wind,
            environment: try readEnvironment(root), sensors: try readSensors(root), flight: try readFlight(root),
            sources: try readSources(root))
        if let seed = try root.int("seed") {
            guard seed >= 0 else { throw root.error("seed", "must be an integer ≥ 0, got \(seed)") }
            scenario.seed = UInt64(seed)
        }
        if let value = root.value("start_utc") { scenario.startUTC = try readUTC(value, root) }
        scenario.duration = try root.double("duration_s")
        if let v = try root.double("truth_threshold_ppm") { scenario.truthThresholdPPM = v }

        if let error = scenario.validationError() {
            throw ConfigurationError(file: path, key: tomlKey(error.key), reason: error.reason)
        }
        return scenario
    }

    private static func readEnvironment(_ root: TableReader) throws(ConfigurationError) -> Environment {
        var environment = Environment()
        guard let table = try root.table(
            "environment",
            allowed: ["temperature_c", "humidity_pct", "humidity_step_pct", "humidity_step_at_s", "variation_pct"])
        else { return environment }
        if let v = try table.double("temperature_c") { environment.temperature = v }
        if let v = try table.double("humidity_pct") { environment.humidity = v }
        let step = try table.double("humidity_step_pct"), at = try table.double("humidity_step_at_s")
        if step != nil && at == nil { throw table.missing("humidity_step_at_s", "when the humidity step happens, seconds from the start") }
        if at != nil && step == nil { throw table.missing("humidity_step_pct", "the size of the humidity step, %") }
        environment.humidityStep = step ?? 0
        environment.humidityStepAt = at
        if let v = try table.double("variation_pct") { environment.variation = v }
        return environment
    }

    private static func readSensors(_ root: TableReader) throws(ConfigurationError) -> SensorWorld {
        var world = SensorWorld()
        let fields: [(String, WritableKeyPath<SensorWorld, Double>)] = [
            ("sensitivity_spread", \.sensitivitySpread), ("mixture_spread", \.mixtureSpread), ("tau_scale", \.tauScale),
            ("drop_probability", \.dropProbability), ("noise_scale", \.noiseScale), ("drift_per_hour", \.drift),
            ("inlet_delay_error_s", \.inletDelayError), ("gps_noise_m", \.gpsNoise), ("humidity_mismatch", \.humidityMismatch),
        ]
        guard let table = try root.table("sensors", allowed: fields.map(\.0)) else { return world }
        for (key, field) in fields {
            if let v = try table.double(key) { world[keyPath: field] = v }
        }
        return world
    }

    static let lawnmowerKeys = ["centre_east_m", "centre_north_m", "width_m", "length_m", "spacing_m", "heading_deg"]

    private static func readFlight(_ root: TableReader) throws(ConfigurationError) -> FlightPlan {
        let common = ["pattern", "speed_m_s", "pose_rate_hz", "altitude_agl_m"]
        guard let any = try root.table("flight", allowed: common + lawnmowerKeys + ["waypoints"]) else {
            throw root.missing("flight", "a [flight] table with the pattern flown")
        }
        let pattern = try any.requiredString("pattern", "\"lawnmower\" or \"waypoints\"")
        let poseRate = try any.double("pose_rate_hz") ?? 10
        switch pattern {
        case "lawnmower":
            guard let table = try root.table("flight", allowed: common + lawnmowerKeys) else { throw root.missing("flight", "") }
            let plan = Lawnmower(
                centreEast: try table.double("centre_east_m") ?? 0, centreNorth: try table.double("centre_north_m") ?? 0,
                width: try table.requiredDouble("width_m", "the extent across the lines, metres"),
                length: try table.requiredDouble("length_m", "the length of each line, metres"),
                spacing: try table.requiredDouble("spacing_m", "the distance between lines, metres"),
                heading: try table.double("heading_deg") ?? 0,
                altitude: try table.requiredDouble("altitude_agl_m", "the altitude above ground, metres"),
                speed: try table.requiredDouble("speed_m_s", "the ground speed, m/s"))
            return .lawnmower(plan, poseRate: poseRate)
        case "waypoints":
            guard let table = try root.table("flight", allowed: common + ["waypoints"]) else { throw root.missing("flight", "") }
            let altitude = try table.double("altitude_agl_m")
            guard let value = table.value("waypoints") else {
                throw table.missing("waypoints", "the points flown, as [[east, north, up], ...] in metres")
            }
            guard let array = value.array else { throw table.mismatch("waypoints", expected: "an array of [east, north(, up)]", got: value) }
            var points: [ENU] = []
            for index in 0..<array.count {
                let key = table.key("waypoints") + "[\(index)]"
                let expected = "[east, north] or [east, north, up] in metres"
                guard let point = array[index].array, point.count == 2 || point.count == 3 else {
                    throw ConfigurationError(file: table.file, key: key, reason: "expected \(expected), got \(TableReader.describe(array[index]))")
                }
                var numbers: [Double] = []
                for i in 0..<point.count {
                    guard let n = point[i].double ?? point[i].int.map(Double.init), n.isFinite else {
                        throw ConfigurationError(file: table.file, key: key, reason: "expected \(expected), got \(TableReader.describe(point[i])) in it")
                    }
                    numbers.append(n)
                }
                guard let up = numbers.count == 3 ? numbers[2] : altitude else {
                    throw ConfigurationError(file: table.file, key: key, reason: "gives no altitude: write [east, north, up] or set altitude_agl_m")
                }
                points.append(ENU(east: numbers[0], north: numbers[1], up: up))
            }
            return .waypoints(points, speed: try table.requiredDouble("speed_m_s", "the ground speed, m/s"), poseRate: poseRate)
        default:
            var reason = "unknown pattern \(TableReader.quoted(pattern)); expected \"lawnmower\" or \"waypoints\""
            if let suggestion = TableReader.closest(to: pattern, among: ["lawnmower", "waypoints"]) { reason += " (did you mean '\(suggestion)'?)" }
            throw any.error("pattern", reason)
        }
    }

    private static func readSources(_ root: TableReader) throws(ConfigurationError) -> [Source] {
        guard let tables = try root.arrayOfTables("sources") else {
            throw root.missing("sources", "the sources, as [[sources]] tables (write sources = [] for a flight in clean air)")
        }
        var sources: [Source] = []
        var positions: [String: Int] = [:]
        for (index, table) in tables.enumerated() {
            let positional = try TableReader(table, file: root.file, path: "sources[\(index)]", allowed: table.keys)
            let id = try positional.requiredString("id", "a short unique id such as \"lab\" or \"dump\"")
            guard Identifier.isValid(id) else {
                throw positional.error("id", "invalid source id \(TableReader.quoted(id)): an id is \(Identifier.rule)")
            }
            if let other = positions[id] {
                throw positional.error("id", "duplicate source id '\(id)' (sources[\(other)] has it too)")
            }
            positions[id] = index
            let reader = try TableReader(
                table, file: root.file, path: "sources.\(id)",
                allowed: ["id", "class", "mixture", "east_m", "north_m", "height_m", "vapour_l_per_s", "release_hz"])
            let emission: Emission
            switch (try reader.string("class"), try reader.openTable("mixture")) {
            case (let signatureClass?, nil):
                emission = .signatureClass(signatureClass)
            case (nil, let mixture?):
                let components = try TableReader(mixture, file: root.file, path: reader.key("mixture"), allowed: mixture.keys)
                var list: [MixtureComponent] = []
                for compound in mixture.keys {
                    guard let fraction = try components.double(compound) else { continue }
                    list.append(MixtureComponent(compound: compound, fraction: fraction))
                }
                emission = .mixture(list)
            case (.some, .some):
                throw reader.error("mixture", "a source emits either a library class or an explicit mixture, not both")
            case (nil, nil):
                throw reader.missing("class", "what the source emits: a class of the signature library, or mixture = { compound = fraction, ... }")
            }
            sources.append(Source(
                id: id, emission: emission,
                position: ENU(east: try reader.requiredDouble("east_m", "metres east of the origin"),
                              north: try reader.requiredDouble("north_m", "metres north of the origin"),
                              up: try reader.double("height_m") ?? 1),
                vapourLitresPerSecond: try reader.requiredDouble("vapour_l_per_s", "litres of pure vapour released per second"),
                releaseHz: try reader.double("release_hz") ?? 4))
        }
        return sources
    }

    /// A TOML offset date-time as µs since the UNIX epoch.
    private static func readUTC(_ value: TOMLValueConvertible, _ root: TableReader) throws(ConfigurationError) -> UInt64 {
        guard let dateTime = value.dateTime else {
            throw root.mismatch("start_utc", expected: "a date-time such as 2026-09-21T14:00:00Z", got: value)
        }
        guard let offset = dateTime.offset else {
            throw root.error("start_utc", "give the time zone: end the date-time with Z (UTC) or an offset such as +02:00")
        }
        let d = dateTime.date, t = dateTime.time
        // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian calendar.
        let y = d.month <= 2 ? d.year - 1 : d.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (d.month + (d.month > 2 ? -3 : 9)) + 2) / 5 + d.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + t.hour * 3600 + t.minute * 60 + t.second - offset.offset * 60
        guard seconds >= 0 else { throw root.error("start_utc", "must not be before 1970-01-01T00:00:00Z") }
        return UInt64(seconds) * 1_000_000 + UInt64(max(0, t.nanoSecond) / 1000)
    }

    /// The TOML key of a key path that ``Scenario/validationError()`` names.
    static func tomlKey(_ key: String) -> String {
        let names: [String: String] = [
            "site.groundAltitude": "site.altitude_m",
            "wind.speed": "wind.speed_m_s", "wind.fromDegrees": "wind.from_deg", "wind.meanderDegrees": "wind.meander_deg",
            "wind.meanderTime": "wind.meander_time_s", "wind.turbulence": "wind.turbulence_m_s",
            "environment.temperature": "environment.temperature_c", "environment.humidity": "environment.humidity_pct",
            "environment.humidityStep": "environment.humidity_step_pct", "environment.humidityStepAt": "environment.humidity_step_at_s",
            "environment.variation": "environment.variation_pct",
            "sensors.sensitivitySpread": "sensors.sensitivity_spread", "sensors.mixtureSpread": "sensors.mixture_spread",
            "sensors.tauScale": "sensors.tau_scale", "sensors.dropProbability": "sensors.drop_probability",
            "sensors.noiseScale": "sensors.noise_scale", "sensors.drift": "sensors.drift_per_hour",
            "sensors.inletDelayError": "sensors.inlet_delay_error_s", "sensors.gpsNoise": "sensors.gps_noise_m",
            "sensors.humidityMismatch": "sensors.humidity_mismatch",
            "flight.poseRate": "flight.pose_rate_hz", "flight.centre.east": "flight.centre_east_m",
            "flight.centre.north": "flight.centre_north_m", "flight.width": "flight.width_m", "flight.length": "flight.length_m",
            "flight.spacing": "flight.spacing_m", "flight.heading": "flight.heading_deg", "flight.altitude": "flight.altitude_agl_m",
            "flight.speed": "flight.speed_m_s", "duration": "duration_s", "truthThresholdPPM": "truth_threshold_ppm",
        ]
        if let name = names[key] { return name }
        let sourceFields = [".position.east": ".east_m", ".position.north": ".north_m", ".position.up": ".height_m",
                            ".vapourLitresPerSecond": ".vapour_l_per_s", ".releaseHz": ".release_hz"]
        if key.hasPrefix("sources.") {
            for (field, name) in sourceFields where key.hasSuffix(field) { return String(key.dropLast(field.count)) + name }
        }
        if key.hasPrefix("flight.waypoints["), let close = key.firstIndex(of: "]") { return String(key[...close]) }
        return key
    }
}
