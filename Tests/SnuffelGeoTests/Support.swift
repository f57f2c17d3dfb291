import SnuffelGeo

/// Whether two numbers differ by at most `tolerance` (for computed values; never `==`).
func close(_ a: Double, _ b: Double, within tolerance: Double) -> Bool {
    abs(a - b) <= tolerance
}

/// The straight-line (3-D) distance between two positions, metres, through the tangent
/// plane at the first: exact for the distances these tests use.
func separation(_ a: GeoPosition, _ b: GeoPosition) -> Double {
    let o = LocalTangentPlane(origin: a).offset(of: b)
    return (o.east * o.east + o.north * o.north + o.up * o.up).squareRoot()
}

/// Microseconds from seconds.
func micros(_ seconds: Double) -> UInt64 { UInt64((seconds * 1e6).rounded()) }

/// An origin in the Netherlands, where Snuffel flies.
let dutchOrigin = GeoPosition(latitude: 52.0907, longitude: 5.1214, altitude: 30)

/// A track that flies east at `speed` m/s from `origin`, one fix a second from t = 0 s,
/// `count` fixes; fixes lie exactly on the line `east = speed · t` of the origin's plane.
func eastboundTrack(speed: Double, count: Int = 61, origin: GeoPosition = dutchOrigin, accuracy: Double? = nil) -> PoseTrack {
    let plane = LocalTangentPlane(origin: origin)
    return PoseTrack(points: (0..<count).map { i in
        TrackPoint(
            time: UInt64(i) * 1_000_000, position: plane.position(east: speed * Double(i), north: 0),
            velocityNorth: 0, velocityEast: speed, horizontalAccuracy: accuracy)
    })
}
