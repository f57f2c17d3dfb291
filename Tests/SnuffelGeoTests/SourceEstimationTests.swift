import RealModule
import SnuffelCore
import Testing

@testable import SnuffelGeo

/// Looks along lawnmower lines through a plume drawn from the estimator's own model: the
/// posterior must find the source it was drawn from.
private func lawnmowerLooks(
    source: (east: Double, north: Double), windEast: Double, windNorth: Double, strength: Double, height: Double,
    settings: LocalisationSettings, seed: UInt64
) -> [PlumeObservation] {
    var state = seed
    func uniform() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) * 0x1p-53
    }
    let speed = (windEast * windEast + windNorth * windNorth).squareRoot()
    let ux = windEast / speed, uy = windNorth / speed
    var looks: [PlumeObservation] = []
    for line in 0..<11 {
        let east = -100 + Double(line) * 20
        for step in 0..<48 {
            let north = -120 + Double(step) * 5
            let dx = east - source.east, dy = north - source.north
            let x = dx * ux + dy * uy, y = -dx * uy + dy * ux
            var p = settings.falseHitProbability
            if x > 0.5 {
                let sy = SourceEstimator.sigmaY(x), sz = SourceEstimator.sigmaZ(x)
                let sz2 = sz * sz + settings.extraVerticalSpread * settings.extraVerticalSpread
                let c = Double.exp(-0.5 * y * y / (sy * sy) - 0.5 * height * height / sz2) / (Double.pi * speed * sy * sz2.squareRoot())
                p += (1 - settings.falseHitProbability - settings.missProbability) * (1 - Double.exp(-strength * c))
            }
            looks.append(PlumeObservation(east: east, north: north, hit: uniform() < p))
        }
    }
    return looks
}

@Suite("Source estimation on a grid")
struct SourceEstimationTests {
    @Test("finds a source from looks drawn from its own plume model, within a few metres, inside its 95 % radius",
          arguments: [(-40.0, 30.0, 3.0, 0.0), (10.0, -60.0, 2.0, 2.0), (-70.0, -10.0, 4.0, -1.0)])
    func recoversItsOwnModel(sourceEast: Double, sourceNorth: Double, windEast: Double, windNorth: Double) throws {
        var settings = LocalisationSettings()
        settings.gridSize = 96
        settings.observationWeight = 1  // the looks are independent draws here
        let looks = lawnmowerLooks(source: (sourceEast, sourceNorth), windEast: windEast, windNorth: windNorth,
                                   strength: 3e4, height: 5, settings: settings, seed: 7)
        #expect(looks.contains { $0.hit })
        let bounds = PlaneBounds(minEast: -250, minNorth: -250, maxEast: 150, maxNorth: 150)
        let map = SourceEstimator.posterior(observations: looks, windEast: windEast, windNorth: windNorth, bounds: bounds, settings: settings)
        #expect(abs(map.values.reduce(0, +) - 1) < 1e-9)
        let found = try #require(SourceEstimator.sources(in: map, maximumCount: 1).first)
        let error = ((found.east - sourceEast) * (found.east - sourceEast) + (found.north - sourceNorth) * (found.north - sourceNorth)).squareRoot()
        #expect(error < 15, "found \(found) for a source at \(sourceEast), \(sourceNorth)")
        #expect(error < 1.5 * found.radius95 + map.cellSize, "error \(error) far outside the 95 % radius \(found.radius95)")
        #expect(found.radius50 < found.radius95)
    }

    @Test("with no hits, or no wind, there is nothing to find")
    func nothingToFind() {
        let bounds = PlaneBounds(minEast: -100, minNorth: -100, maxEast: 100, maxNorth: 100)
        let quiet = [PlumeObservation(east: 0, north: 0, hit: false), PlumeObservation(east: 10, north: 0, hit: false)]
        var settings = LocalisationSettings()
        settings.gridSize = 32
        let calm = SourceEstimator.posterior(observations: quiet, windEast: 0, windNorth: 0, bounds: bounds, settings: settings)
        #expect(calm.values.allSatisfy { $0 == 0 })
        #expect(SourceEstimator.sources(in: calm).isEmpty)
    }

    @Test("a look is in a plume downwind of its source, not upwind or far off the axis")
    func inPlume() {
        let inside = PlumeObservation(east: 100, north: 2, hit: true)
        let upwind = PlumeObservation(east: -50, north: 0, hit: true)
        let aside = PlumeObservation(east: 50, north: 60, hit: true)
        for (look, expected) in [(inside, true), (upwind, false), (aside, false)] {
            #expect(SourceEstimator.isInPlume(observation: look, sourceEast: 0, sourceNorth: 0, windEast: 3, windNorth: 0) == expected)
        }
    }
}
