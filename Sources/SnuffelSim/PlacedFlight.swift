import SnuffelCore
import SnuffelGeo
import SnuffelWire

/// A simulated flight placed on the map: the simulator works in metres east, north and up
/// of the scenario's site; logs and truth files hold WGS84 positions.
public struct PlacedFlight: Sendable {
    public var scenario: Scenario
    public var flight: SimulatedFlight
    public var plane: LocalTangentPlane

    public init(scenario: Scenario, flight: SimulatedFlight) {
        self.scenario = scenario
        self.flight = flight
        plane = LocalTangentPlane(origin: GeoPosition(
            latitude: scenario.site.latitude, longitude: scenario.site.longitude, altitude: scenario.site.groundAltitude))
    }

    /// A simulator position (ENU metres from the site, up from the ground) on the map.
    public func position(_ p: ENU) -> GeoPosition {
        plane.position(east: p.east, north: p.north, up: p.up)
    }

    /// A time of the drone's clock in UTC µs.
    public func utc(_ time: UInt64) -> UInt64 { flight.utc(time) }

    /// The logged (GPS) poses as ULog poses.
    public var poses: [ULogPose] {
        flight.poses.map { p in
            let g = position(p.position)
            return ULogPose(
                time: p.time, latitude: g.latitude, longitude: g.longitude, altitude: Float(g.altitude),
                roll: Float(p.roll), pitch: Float(p.pitch), yaw: Float(p.yaw),
                velocityNorth: Float(p.velocity.north), velocityEast: Float(p.velocity.east),
                velocityDown: Float(-p.velocity.up), gpsTime: utc(p.time))
        }
    }

    /// What the drone records, in time order (at equal times: poses, then wind, then
    /// samples): samples, logged poses and wind.
    public enum Event: Sendable {
        case sample(Sample)
        case pose(ULogPose)
        case wind(ULogWind)

        public var time: UInt64 {
            switch self {
            case .sample(let s): return s.time
            case .pose(let p): return p.time
            case .wind(let w): return w.time
            }
        }
    }

    /// The flight's samples, poses and wind merged in time order.
    public var events: [Event] {
        let poses = self.poses
        let wind = flight.wind.map { ULogWind(time: $0.time, north: Float($0.north), east: Float($0.east), down: Float($0.down)) }
        var out: [Event] = []
        out.reserveCapacity(flight.samples.count + poses.count + wind.count)
        var p = 0, w = 0
        for s in flight.samples {
            while p < poses.count && poses[p].time <= s.time { out.append(.pose(poses[p])); p += 1 }
            while w < wind.count && wind[w].time <= s.time { out.append(.wind(wind[w])); w += 1 }
            out.append(.sample(s))
        }
        out += poses[p...].map { .pose($0) }
        out += wind[w...].map { .wind($0) }
        return out
    }

    /// The drone's true track (no GPS noise), on the drone's clock.
    public var trueTrack: PoseTrack {
        PoseTrack(points: flight.poses.map { TrackPoint(time: $0.time, position: position($0.truePosition)) })
    }
}
