import Testing

@testable import SnuffelGeo

@Suite("PoseTrack: sorting, interpolation, gaps and ends")
struct PoseTrackTests {
    private let plane = LocalTangentPlane(origin: dutchOrigin)

    private func point(_ seconds: Double, east: Double, north: Double = 0, vn: Double? = nil, ve: Double? = nil, accuracy: Double? = nil) -> TrackPoint {
        TrackPoint(time: micros(seconds), position: plane.position(east: east, north: north, up: 10),
                   velocityNorth: vn, velocityEast: ve, horizontalAccuracy: accuracy)
    }

    @Test("exact at the fixes, halfway between them at half time")
    func interpolation() throws {
        let track = PoseTrack(points: [point(0, east: 0), point(2, east: 10, north: 4), point(4, east: 10, north: 24)])
        for p in track.points {
            let fix = try #require(track.fix(at: p.time))
            #expect(separation(fix.position, p.position) < 1e-6)
            #expect(fix.gap == 0)
        }
        let mid = try #require(track.fix(at: micros(1)))
        let o = plane.offset(of: mid.position)
        #expect(close(o.east, 5, within: 0.001) && close(o.north, 2, within: 0.001) && close(o.up, 10, within: 0.001), "\(o)")
        #expect(mid.gap == 2)
        #expect(close(mid.speed, (100.0 + 16).squareRoot() / 2, within: 1e-6))
        let quarter = try #require(track.fix(at: micros(2.5)))
        #expect(close(plane.offset(of: quarter.position).north, 9, within: 0.001))
        #expect(close(quarter.speed, 10, within: 1e-6))
        #expect(close(track.length, (100.0 + 16).squareRoot() + 20, within: 0.001))
    }

    @Test("speed comes from the fixes' velocities when both are known, interpolated")
    func speedFromVelocity() throws {
        let track = PoseTrack(points: [point(0, east: 0, vn: 0, ve: 2), point(1, east: 3, vn: 0, ve: 4)])
        #expect(close(try #require(track.fix(at: micros(0.5))).speed, 3, within: 1e-9))
        #expect(close(try #require(track.fix(at: 0)).speed, 2, within: 1e-9))
    }

    @Test("unsorted input is sorted; of equal times the first given is kept and the rest counted")
    func sortingAndDuplicates() throws {
        let track = PoseTrack(points: [point(3, east: 30), point(1, east: 10), point(2, east: 20), point(1, east: 99), point(0, east: 0)])
        #expect(track.points.map(\.time) == [0, 1, 2, 3].map { micros($0) })
        #expect(close(plane.offset(of: track.points[1].position).east, 10, within: 1e-6))
        #expect(track.droppedPointCount == 1)
        #expect(track.timeRange == 0...micros(3))
    }

    @Test("non-finite and out-of-range points are dropped and counted; bad optional values become unknown")
    func droppedPoints() {
        let good = point(0, east: 0)
        var bad: [TrackPoint] = []
        for (lat, lon, alt) in [(Double.nan, 5.0, 0.0), (52, .infinity, 0), (52, 5, -.infinity), (91, 5, 0), (-90.5, 5, 0), (52, 181, 0), (52, -180.01, 0)] {
            bad.append(TrackPoint(time: 7, position: GeoPosition(latitude: lat, longitude: lon, altitude: alt)))
        }
        let odd = TrackPoint(time: micros(1), position: good.position, velocityNorth: .nan, velocityEast: 1, horizontalAccuracy: -1)
        let track = PoseTrack(points: [good] + bad + [odd])
        #expect(track.points.count == 2)
        #expect(track.droppedPointCount == 7)
        #expect(track.points[1].velocityNorth == nil && track.points[1].velocityEast == 1 && track.points[1].horizontalAccuracy == nil)
        let edges = PoseTrack(points: [TrackPoint(time: 0, position: GeoPosition(latitude: -90, longitude: 180))])
        #expect(edges.points.count == 1 && edges.droppedPointCount == 0)
    }

    @Test("no position inside a gap longer than maximumGap; positions at its edges")
    func gaps() throws {
        let track = PoseTrack(points: [point(0, east: 0), point(1, east: 5), point(11, east: 55), point(12, east: 60)], maximumGap: 5)
        #expect(track.maximumGap == 5)
        #expect(track.fix(at: micros(1.000001)) == nil)
        #expect(track.fix(at: micros(6)) == nil)
        #expect(track.fix(at: micros(10.999999)) == nil)
        #expect(close(plane.offset(of: try #require(track.fix(at: micros(1))).position).east, 5, within: 1e-6))
        #expect(close(plane.offset(of: try #require(track.fix(at: micros(11))).position).east, 55, within: 1e-6))
        #expect(close(plane.offset(of: try #require(track.fix(at: micros(11.5))).position).east, 57.5, within: 0.001))
        // At a gap's edge the speed comes from the segment that is no gap.
        #expect(close(try #require(track.fix(at: micros(1))).speed, 5, within: 1e-9))
        // A gap of exactly maximumGap is no gap.
        let exact = PoseTrack(points: [point(0, east: 0), point(5, east: 25)], maximumGap: 5)
        #expect(exact.fix(at: micros(2.5)) != nil)
        #expect(PoseTrack(points: [point(0, east: 0)], maximumGap: .nan).maximumGap == 0)
    }

    @Test("outside the track: up to 1 s beyond the ends extrapolated, further nil")
    func outside() throws {
        let track = PoseTrack(points: [point(10, east: 0, vn: 0, ve: 4), point(11, east: 4, vn: 0, ve: 4), point(12, east: 8)])
        #expect(track.fix(at: micros(8.9)) == nil)
        #expect(track.fix(at: micros(13.1)) == nil)
        #expect(track.fix(at: .max) == nil)
        let before = try #require(track.fix(at: micros(9.5)))
        #expect(close(plane.offset(of: before.position).east, -2, within: 0.001))  // the first fix's velocity
        #expect(close(before.gap, 0.5, within: 1e-9))
        let after = try #require(track.fix(at: micros(13)))
        #expect(close(plane.offset(of: after.position).east, 12, within: 0.001))  // the last segment's velocity
        #expect(PoseTrack(points: [TrackPoint]()).fix(at: 0) == nil)
        #expect(PoseTrack(points: [TrackPoint]()).timeRange == nil)
        let single = PoseTrack(points: [point(1, east: 0)])
        #expect(separation(try #require(single.fix(at: micros(1.5))).position, single.points[0].position) < 1e-9)
    }

    @Test("across the dateline the track goes the short way, not around the world")
    func dateline() throws {
        let a = GeoPosition(latitude: -16.5, longitude: 179.9999, altitude: 50)
        let b = GeoPosition(latitude: -16.5, longitude: -179.9999, altitude: 50)
        let track = PoseTrack(points: [TrackPoint(time: 0, position: a), TrackPoint(time: micros(2), position: b)])
        let mid = try #require(track.fix(at: micros(1)))
        #expect(close(abs(mid.position.longitude), 180, within: 1e-7), "\(mid.position)")
        #expect(close(mid.position.latitude, -16.5, within: 1e-7))
        let half = horizontalDistance(a, b) / 2
        #expect(close(horizontalDistance(a, mid.position), half, within: 0.01))
        #expect(close(horizontalDistance(mid.position, b), half, within: 0.01))
        #expect(track.length < 25)
        #expect(close(mid.speed, track.length / 2, within: 1e-9))
    }

    @Test("over a pole the track goes straight across")
    func pole() throws {
        let a = GeoPosition(latitude: 89.9999, longitude: 30)
        let b = GeoPosition(latitude: 89.9999, longitude: -150)
        let track = PoseTrack(points: [TrackPoint(time: 0, position: a), TrackPoint(time: micros(2), position: b)])
        let mid = try #require(track.fix(at: micros(1)))
        #expect(mid.position.latitude > 89.99999, "\(mid.position)")
        #expect(close(track.length, 2 * 6_399_593.6 * 0.0001 * .pi / 180, within: 0.01))
    }
}
