import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelSim
import Testing

/// A small valid scenario; tests replace one line or append to it.
let scenarioText = """
    name = "test"
    seed = 3
    start_utc = 2026-09-21T14:00:00Z

    [site]
    latitude = 51.45
    longitude = 5.48

    [wind]
    speed_m_s = 3
    from_deg = 240

    [environment]
    humidity_pct = 60

    [sensors]
    gps_noise_m = 1.5

    [flight]
    pattern = "lawnmower"
    width_m = 100
    length_m = 120
    spacing_m = 20
    altitude_agl_m = 8
    speed_m_s = 5

    [[sources]]
    id = "dump"
    class = "drug-waste"
    east_m = -80
    north_m = -40
    vapour_l_per_s = 0.5

    """

func parseScenario(_ text: String) throws -> Scenario {
    try Scenario.parse(text: text, path: "scenario.toml")
}

/// The scenario text with one line replaced.
func scenario(replacing old: String, with new: String) -> String {
    precondition(scenarioText.contains(old), "the test text has no '\(old)'")
    return scenarioText.replacingOccurrences(of: old, with: new)
}

/// Expects the scenario text with one line replaced to be refused at `key` for `reason`.
func expectScenarioRefusal(
    replacing old: String, with new: String, key: String, reason: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    expectRefusal(refusal { try parseScenario(scenario(replacing: old, with: new)) }, file: "scenario.toml", key: key, reason: reason,
                  sourceLocation: sourceLocation)
}

@Suite("Scenario files")
struct ScenarioLoadingTests {
    @Test("a minimal scenario loads with its defaults")
    func minimal() throws {
        let s = try parseScenario(scenarioText)
        #expect(s.name == "test" && s.seed == 3)
        #expect(s.startUTC == 1_790_000_000_000_000 - 800 * 1_000_000)  // 14:13:20Z is 1.79e9 s
        #expect(s.site == Site(latitude: 51.45, longitude: 5.48, groundAltitude: 0))
        #expect(s.wind == Wind(speed: 3, fromDegrees: 240))
        #expect(s.environment == Environment(humidity: 60))
        #expect(s.sensors == SensorWorld(gpsNoise: 1.5))
        #expect(s.flight == .lawnmower(Lawnmower(width: 100, length: 120, spacing: 20, altitude: 8, speed: 5)))
        #expect(s.sources == [Source(id: "dump", emission: .signatureClass("drug-waste"), position: ENU(east: -80, north: -40, up: 1),
                                     vapourLitresPerSecond: 0.5, releaseHz: 4)])
        #expect(s.truthThresholdPPM == 0.05 && s.duration == nil)
    }

    @Test("offsets, waypoints, mixtures and every optional key are read")
    func everything() throws {
        let text = scenario(replacing: "start_utc = 2026-09-21T14:00:00Z", with: """
            start_utc = 2026-09-21T16:00:00+02:00
            duration_s = 400
            truth_threshold_ppm = 0.1
            """)
            .replacingOccurrences(of: """
                pattern = "lawnmower"
                width_m = 100
                length_m = 120
                spacing_m = 20
                altitude_agl_m = 8
                speed_m_s = 5
                """, with: """
                pattern = "waypoints"
                speed_m_s = 4
                pose_rate_hz = 5
                altitude_agl_m = 12
                waypoints = [[0, 0], [100, 0, 20], [100.5, 50]]
                """)
            .replacingOccurrences(of: "class = \"drug-waste\"", with: "mixture = { formic_acid = 0.6, formamide = 0.4 }\nheight_m = 3\nrelease_hz = 8")
        let s = try parseScenario(text)
        #expect(s.startUTC == 1_790_000_000_000_000 - 800 * 1_000_000)
        #expect(s.duration == 400 && s.truthThresholdPPM == 0.1)
        #expect(s.flight == .waypoints([ENU(east: 0, north: 0, up: 12), ENU(east: 100, north: 0, up: 20), ENU(east: 100.5, north: 50, up: 12)],
                                       speed: 4, poseRate: 5))
        #expect(s.sources[0].emission == .mixture([MixtureComponent(compound: "formamide", fraction: 0.4),
                                                    MixtureComponent(compound: "formic_acid", fraction: 0.6)])
                || s.sources[0].emission == .mixture([MixtureComponent(compound: "formic_acid", fraction: 0.6),
                                                       MixtureComponent(compound: "formamide", fraction: 0.4)]))
        #expect(s.sources[0].position.up == 3 && s.sources[0].releaseHz == 8)
    }

    @Test("unknown keys are refused, with a suggestion")
    func unknownKey() {
        expectScenarioRefusal(replacing: "from_deg = 240", with: "from_deg = 240\ndirection = 240",
                              key: "wind.direction", reason: "unknown key 'direction'")
        expectScenarioRefusal(replacing: "east_m = -80", with: "east = -80",
                              key: "sources.dump.east", reason: "did you mean 'east_m'?")
        expectRefusal(refusal { try parseScenario(scenarioText + "[weather]\nrain = true\n") },
                      file: "scenario.toml", key: "weather", reason: "unknown key 'weather'")
        // A key of the other pattern.
        expectScenarioRefusal(replacing: "spacing_m = 20", with: "spacing_m = 20\nwaypoints = [[0, 0]]",
                              key: "flight.waypoints", reason: "unknown key 'waypoints'")
    }

    @Test("wrong types are refused")
    func wrongType() {
        expectScenarioRefusal(replacing: "speed_m_s = 3", with: "speed_m_s = \"fast\"",
                              key: "wind.speed_m_s", reason: "expected a number, got string 'fast'")
        expectScenarioRefusal(replacing: "seed = 3", with: "seed = 3.5",
                              key: "seed", reason: "expected an integer")
        expectScenarioRefusal(replacing: "start_utc = 2026-09-21T14:00:00Z", with: "start_utc = \"today\"",
                              key: "start_utc", reason: "expected a date-time")
        expectScenarioRefusal(replacing: "start_utc = 2026-09-21T14:00:00Z", with: "start_utc = 2026-09-21T14:00:00",
                              key: "start_utc", reason: "give the time zone")
    }

    @Test("values out of range are refused with the TOML key", arguments: [
        ("speed_m_s = 3", "speed_m_s = -2", "wind.speed_m_s", "must be between 0.1 and 40.0 m/s"),
        ("humidity_pct = 60", "humidity_pct = 120", "environment.humidity_pct", "must be between 0.0 and 100.0 %, got 120.0"),
        ("humidity_pct = 60", "humidity_pct = 95\nhumidity_step_pct = 10\nhumidity_step_at_s = 10", "environment.humidity_step_pct",
         "takes the humidity to 105.0 %, outside 0–100 %"),
        ("gps_noise_m = 1.5", "gps_noise_m = -1", "sensors.gps_noise_m", "got -1.0"),
        ("speed_m_s = 5", "speed_m_s = 0", "flight.speed_m_s", "must be greater than 0"),
        ("spacing_m = 20", "spacing_m = 0", "flight.spacing_m", "must be greater than 0"),
        ("altitude_agl_m = 8", "altitude_agl_m = 0", "flight.altitude_agl_m", "m above ground, got 0.0"),
        ("east_m = -80", "east_m = -8000", "sources.dump.east_m", "within ±5000 m of the site origin"),
        ("vapour_l_per_s = 0.5", "vapour_l_per_s = 0", "sources.dump.vapour_l_per_s", "must be greater than 0"),
        ("seed = 3", "seed = -3", "seed", "must be an integer ≥ 0"),
        ("latitude = 51.45", "latitude = 91", "site.latitude", "got 91.0"),
    ])
    func outOfRange(old: String, new: String, key: String, reason: String) {
        expectScenarioRefusal(replacing: old, with: new, key: key, reason: reason)
    }

    @Test("an unknown pattern is refused, with a suggestion")
    func unknownPattern() {
        expectScenarioRefusal(replacing: "pattern = \"lawnmower\"", with: "pattern = \"lawnmover\"",
                              key: "flight.pattern", reason: "unknown pattern 'lawnmover'; expected \"lawnmower\" or \"waypoints\" (did you mean 'lawnmower'?)")
    }

    @Test("a source needs exactly one of class and mixture, and a unique id")
    func sourceEmission() {
        expectScenarioRefusal(replacing: "class = \"drug-waste\"", with: "class = \"drug-waste\"\nmixture = { pmk = 1 }",
                              key: "sources.dump.mixture", reason: "either a library class or an explicit mixture, not both")
        expectScenarioRefusal(replacing: "class = \"drug-waste\"", with: "",
                              key: "sources.dump.class", reason: "missing required key 'class'")
        let twice = scenarioText + "\n[[sources]]\nid = \"dump\"\nclass = \"manure\"\neast_m = 0\nnorth_m = 0\nvapour_l_per_s = 1\n"
        expectRefusal(refusal { try parseScenario(twice) },
                      file: "scenario.toml", key: "sources[1].id", reason: "duplicate source id 'dump' (sources[0] has it too)")
        expectScenarioRefusal(replacing: "class = \"drug-waste\"", with: "mixture = { pmk = -1 }",
                              key: "sources.dump.mixture.pmk", reason: "must be greater than 0")
    }

    @Test("missing tables and keys are named")
    func missing() {
        expectScenarioRefusal(replacing: "[wind]\nspeed_m_s = 3\nfrom_deg = 240", with: "",
                              key: "wind", reason: "missing required key 'wind'")
        expectScenarioRefusal(replacing: "width_m = 100", with: "",
                              key: "flight.width_m", reason: "missing required key 'width_m'")
        expectScenarioRefusal(replacing: "humidity_pct = 60", with: "humidity_step_pct = 10",
                              key: "environment.humidity_step_at_s", reason: "missing required key")
        let waypoints = scenario(replacing: "pattern = \"lawnmower\"\nwidth_m = 100\nlength_m = 120\nspacing_m = 20\naltitude_agl_m = 8",
                                 with: "pattern = \"waypoints\"\nwaypoints = [[0, 0], [50, 0]]")
        expectRefusal(refusal { try parseScenario(waypoints) },
                      file: "scenario.toml", key: "flight.waypoints[0]", reason: "gives no altitude")
        let single = scenario(replacing: "pattern = \"lawnmower\"\nwidth_m = 100\nlength_m = 120\nspacing_m = 20\naltitude_agl_m = 8",
                              with: "pattern = \"waypoints\"\nwaypoints = [[0, 0, 10]]")
        expectRefusal(refusal { try parseScenario(single) },
                      file: "scenario.toml", key: "flight.waypoints", reason: "at least two waypoints")
    }

    @Test("an unknown class is refused when simulated, naming the source")
    func unknownClass() throws {
        let s = try parseScenario(scenario(replacing: "class = \"drug-waste\"", with: "class = \"meth-lab\""))
        let payload = try PayloadConfiguration.load(path: examplePayloadPath)
        #expect(throws: SimulationError.self) {
            try FlightSimulator(scenario: s, channels: payload.pipeline.channels, library: payload.pipeline.library)
        }
        do {
            _ = try FlightSimulator(scenario: s, channels: payload.pipeline.channels, library: payload.pipeline.library)
        } catch {
            #expect(error.key == "sources.dump.class" && error.reason.contains("unknown class 'meth-lab'"))
        }
    }

    @Test("the file is read from disk, and a missing file is named")
    func fromDisk() throws {
        let s = try Scenario.load(path: repositoryRoot + "/scenarios/mdma-lab.toml")
        #expect(s.name == "mdma-lab")
        let error = refusal { try Scenario.load(path: "/nonexistent/scenario.toml") }
        #expect(error?.description == "/nonexistent/scenario.toml: does not exist")
    }
}
