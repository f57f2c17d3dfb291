import SnuffelCore
import SnuffelSim
import SnuffelTestSupport

/// A 9.5-minute lawnmower over 200 × 240 m at 8 m, wind 3 m/s from 240°, one lab source
/// upwind of the area whose plume crosses the lines.
func baseScenario(seed: UInt64 = 7, sources: [Source]? = nil) -> Scenario {
    Scenario(
        name: "test", seed: seed,
        wind: Wind(speed: 3, fromDegrees: 240, meanderDegrees: 8, meanderTime: 60, gust: 0.15, turbulence: 0.3),
        environment: Environment(temperature: 18, humidity: 60),
        sensors: SensorWorld(sensitivitySpread: 0.2, mixtureSpread: 0.1, dropProbability: 0.01, drift: 2, gpsNoise: 1.5),
        flight: .lawnmower(Lawnmower(width: 200, length: 240, spacing: 20, altitude: 8, speed: 5)),
        sources: sources ?? [
            Source(id: "lab", emission: .signatureClass("lab"), position: ENU(east: -130, north: -60, up: 2),
                   vapourLitresPerSecond: 0.1, releaseHz: 4)
        ])
}

func simulate(_ scenario: Scenario) throws -> SimulatedFlight {
    try FlightSimulator(scenario: scenario, channels: Fixtures.referenceChannels(), library: Fixtures.miniLibrary()).run()
}

func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

func standardDeviation(_ values: [Double]) -> Double {
    let m = mean(values)
    return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(1, values.count - 1))).squareRoot()
}
