import RealModule
import SnuffelCore
import SnuffelSim
import SnuffelTestSupport
import Testing

@Suite("The flight simulator")
struct FlightSimulatorTests {
    @Test("the same seed gives the same flight, another seed another")
    func determinism() throws {
        let a = try simulate(baseScenario(seed: 7))
        let b = try simulate(baseScenario(seed: 7))
        let c = try simulate(baseScenario(seed: 8))
        #expect(a.samples == b.samples)
        #expect(a.poses == b.poses)
        #expect(a.wind == b.wind)
        #expect(a.truth == b.truth)
        #expect(a.samples != c.samples)
        #expect(a.poses != c.poses)
        #expect(a.truth.encounters != c.truth.encounters)
    }

    @Test("samples are sorted, in raw units, at each channel's rate, and the clock maps to UTC")
    func samplesAndClock() throws {
        let scenario = baseScenario()
        let flight = try simulate(scenario)
        let channels = Fixtures.referenceChannels()
        #expect(zip(flight.samples, flight.samples.dropFirst()).allSatisfy { ($0.time, $0.channel) < ($1.time, $1.channel) })
        let duration = try FlightSimulator(scenario: scenario, channels: channels, library: Fixtures.miniLibrary()).planDuration
        #expect(duration.isApproximatelyEqual(to: (11 * 240 + 10 * 20) / 5, relativeTolerance: 1e-9))
        for (i, c) in channels.enumerated() {
            let count = flight.samples.filter { $0.channel == UInt16(i) }.count
            let expected = duration * c.rateHz
            #expect(Double(count) > 0.95 * expected && Double(count) < 1.01 * expected + 1, "\(c.id): \(count) samples")
        }
        let voc = flight.samples.filter { $0.channel == 0 }
        #expect(voc.allSatisfy { $0.value == $0.value.rounded() && $0.value >= 0 && $0.value <= 65535 })
        #expect(flight.monotonicStart == FlightSimulator.monotonicStart)
        #expect(flight.utcAtStart == scenario.startUTC)
        #expect(flight.utc(flight.monotonicStart + 1_000_000) == scenario.startUTC + 1_000_000)
        #expect(flight.wind.count == Int(duration) + 1)
        // Wind from 240° moves the air towards 60°: east and north both positive, east larger.
        let east = mean(flight.wind.map(\.east)), north = mean(flight.wind.map(\.north))
        #expect(east > 0 && north > 0 && east > north)
        #expect((east * east + north * north).squareRoot().isApproximatelyEqual(to: 3, relativeTolerance: 0.2))
    }

    @Test("the drone flies the lawnmower at the set speed, yaw along the track, and covers the area")
    func flightPattern() throws {
        let flight = try simulate(baseScenario())
        let poses = flight.poses
        #expect(poses.count == Int(568 * 10) + 1)
        var speeds: [Double] = []
        for (a, b) in zip(poses, poses.dropFirst()) {
            let d = (b.truePosition - a.truePosition).length
            speeds.append(d / (Double(b.time - a.time) / 1e6))
        }
        // At corners the chord is shorter than the path; elsewhere the speed is exact.
        let straight = speeds.filter { $0 > 4.9 }
        #expect(Double(straight.count) > 0.98 * Double(speeds.count))
        #expect(straight.allSatisfy { abs($0 - 5) < 1e-6 })
        #expect(poses.allSatisfy { abs($0.truePosition.up - 8) < 1e-9 })
        // The first pose is the first corner, heading along the first line (north).
        #expect(abs(poses[0].truePosition.east + 100) < 1e-9 && abs(poses[0].truePosition.north + 120) < 1e-9)
        #expect(abs(poses[10].yaw) < 1e-9)
        // Every point of the area is within half a line spacing (plus a little) of the track.
        for east in stride(from: -100.0, through: 100, by: 10) {
            for north in stride(from: -120.0, through: 120, by: 10) {
                let point = ENU(east: east, north: north, up: 8)
                let nearest = poses.lazy.map { ($0.truePosition - point).length }.min() ?? .infinity
                #expect(nearest <= 10.5, "(\(east), \(north)) is \(nearest) m from the track")
            }
        }
    }

    @Test("GPS error has about the set σ and is correlated in time")
    func gpsNoise() throws {
        var scenario = baseScenario(sources: [])
        scenario.sensors.gpsNoise = 2
        scenario.flight = .waypoints([ENU(east: -100, north: 0, up: 10), ENU(east: 100, north: 0, up: 10)], speed: 2, poseRate: 5)
        scenario.duration = 3600
        let flight = try simulate(scenario)
        let east = flight.poses.map { $0.position.east - $0.truePosition.east }
        let north = flight.poses.map { $0.position.north - $0.truePosition.north }
        let sigma = ((standardDeviation(east) * standardDeviation(east) + standardDeviation(north) * standardDeviation(north)) / 2).squareRoot()
        print("GPS: σ east \(standardDeviation(east)) m, north \(standardDeviation(north)) m, set 2 m")
        #expect(sigma > 1.6 && sigma < 2.4)
        // One second apart the error barely moves (30 s time constant).
        let steps = zip(east, east.dropFirst(5)).map { $1 - $0 }
        #expect(standardDeviation(steps) < 0.7)
        // Hovering at the end after the plan's 100 s.
        #expect(flight.poses.last.map { abs($0.truePosition.east - 100) < 1e-9 } == true)
    }

    @Test("a plume crossing the lines gives encounters; a source downwind of the whole area gives none")
    func encounters() throws {
        let sources = [
            Source(id: "lab", emission: .signatureClass("lab"), position: ENU(east: -130, north: -60, up: 2),
                   vapourLitresPerSecond: 0.1),
            // Wind from 240° blows towards 60°: this source lies 300 m beyond the area's downwind corner.
            Source(id: "behind", emission: .signatureClass("manure"), position: ENU(east: 360, north: 270, up: 1),
                   vapourLitresPerSecond: 1),
        ]
        let flight = try simulate(baseScenario(sources: sources))
        let lab = flight.truth.encounters.filter { $0.sourceID == "lab" }
        for e in flight.truth.encounters {
            print("encounter \(e.sourceID): \(Double(e.start - flight.monotonicStart) / 1e6)–\(Double(e.end - flight.monotonicStart) / 1e6) s, peak \(e.peakPPM) ppm, dose \(e.dosePPMSeconds) ppm·s at (\(e.truePositionAtPeak.east), \(e.truePositionAtPeak.north))")
        }
        #expect(lab.count >= 3, "the lines cross the lab's plume several times")
        #expect(flight.truth.encounters.allSatisfy { $0.sourceID != "behind" })
        for e in lab {
            #expect(e.start <= e.peakTime && e.peakTime <= e.end)
            #expect(e.peakPPM > 0.05 && e.dosePPMSeconds > 0)
            // Downwind of the source: the displacement points roughly along the wind (towards 60°).
            let d = e.truePositionAtPeak - ENU(east: -130, north: -60, up: 2)
            let along = d.east * 0.866 + d.north * 0.5
            #expect(along > 0, "encounter upwind of the source at \(e.truePositionAtPeak)")
        }
        #expect(flight.truth.sources.map(\.id) == ["lab", "behind"])
        #expect(flight.truth.sources[1].isConfounder && !flight.truth.sources[0].isConfounder)
        // The PID (channel 3) sees the lab: its largest reading is far above its noise.
        let pid = flight.samples.filter { $0.channel == 3 }.map(\.value)
        #expect((pid.max() ?? 0) > 50, "PID peak \(pid.max() ?? 0) ppb")
    }

    @Test("humidity and temperature channels follow the environment, humidity step included")
    func environmentChannels() throws {
        var scenario = baseScenario(sources: [])
        scenario.environment = Environment(temperature: 14, humidity: 55, humidityStep: 15, humidityStepAt: 200)
        let flight = try simulate(scenario)
        func values(_ channel: UInt16, from: Double, to: Double) -> [Double] {
            flight.samples.filter {
                let t = Double($0.time - flight.monotonicStart) / 1e6
                return $0.channel == channel && t >= from && t < to
            }.map(\.value)
        }
        let before = values(8, from: 10, to: 195), after = values(8, from: 210, to: 500)
        #expect(mean(before).isApproximatelyEqual(to: 55, absoluteTolerance: 0.1))
        #expect(mean(after).isApproximatelyEqual(to: 70, absoluteTolerance: 0.1))
        #expect(standardDeviation(before).isApproximatelyEqual(to: 0.1, relativeTolerance: 0.3))
        #expect(mean(values(7, from: 0, to: 600)).isApproximatelyEqual(to: 14, absoluteTolerance: 0.02))
    }

    @Test("a bad scenario is refused with the key and the reason")
    func refusals() {
        let channels = Fixtures.referenceChannels(), library = Fixtures.miniLibrary()
        func refusal(_ change: (inout Scenario) -> Void) -> SimulationError? {
            var scenario = baseScenario()
            change(&scenario)
            do {
                _ = try FlightSimulator(scenario: scenario, channels: channels, library: library)
                return nil
            } catch {
                return error
            }
        }
        #expect(refusal { $0.sources[0].emission = .signatureClass("meth") }?.key == "sources.lab.class")
        #expect(refusal { $0.sources[0].emission = .mixture([MixtureComponent(compound: "x", fraction: 1)]) }?.key == "sources.lab.mixture.x")
        #expect(refusal { $0.sources[0].position.east = 6000 }?.key == "sources.lab.position.east")
        #expect(refusal { $0.flight = .waypoints([ENU(east: 0, north: 0, up: 5)], speed: 5) }?.key == "flight.waypoints")
        #expect(refusal { $0.flight = .waypoints([ENU(east: 0, north: 0, up: 5), ENU(east: 0, north: 0, up: 5)], speed: 5) }?.key == "flight")
        #expect(refusal { $0.flight = .lawnmower(Lawnmower(width: 100, length: 100, spacing: 10, altitude: 8, speed: 0)) }?.key == "flight.speed")
        #expect(refusal { $0.wind.speed = -1 }?.key == "wind.speed")
        #expect(refusal { $0.environment.humidity = 120 }?.key == "environment.humidity")
        #expect(refusal { $0.sources.append($0.sources[0]) }?.reason.contains("duplicate") == true)
        #expect(refusal { _ in } == nil)
    }

    @Test("cost: a 10-minute flight with 5 sources (reported, not asserted)")
    func cost() throws {
        var scenario = baseScenario(sources: (0..<5).map { i in
            Source(id: "s\(i)", emission: .signatureClass(["lab", "manure", "exhaust"][i % 3]),
                   position: ENU(east: -150 + 40 * Double(i), north: -100 - 10 * Double(i), up: 1.5), vapourLitresPerSecond: 0.05)
        })
        scenario.duration = 600
        let simulator = try FlightSimulator(scenario: scenario, channels: Fixtures.referenceChannels(), library: Fixtures.miniLibrary())
        let clock = ContinuousClock()
        var flight: SimulatedFlight?
        let elapsed = clock.measure { flight = simulator.run() }
        print("cost: 600 s, 5 sources, \(flight?.samples.count ?? 0) samples, \(flight?.truth.encounters.count ?? 0) encounters in \(elapsed) (this build's configuration)")
    }
}
