import RealModule

/// East-north-up tangent plane at an origin on the WGS84 ellipsoid.
///
/// The plane touches the ellipsoid's normal at the origin: `up` is along the normal
/// through the origin, `north` points to the north pole, `east` completes a right-handed
/// frame. Conversion goes through Earth-centred, Earth-fixed coordinates, which use the
/// ellipsoid's prime-vertical radius of curvature N(φ) = a / √(1 − e² sin² φ), so the
/// frame is exact: there is no approximation error at any distance, across the dateline
/// and over the poles. Horizontal distances in the plane match the ellipsoid's geodesic
/// distances to better than 1 mm within 5 km of the origin.
///
/// `up` is height above the plane, not altitude: a point at the origin's altitude `d`
/// metres away lies about `d² / (2R)` below the plane (0.31 m at 2 km).
/// ``position(east:north:up:)`` inverts ``offset(of:)`` to better than 1 mm at any
/// distance a drone flies.
public struct LocalTangentPlane: Sendable {
    /// The point where the plane touches: its (0, 0, 0).
    public let origin: GeoPosition
    private let sinLatitude: Double
    private let cosLatitude: Double
    private let sinLongitude: Double
    private let cosLongitude: Double
    private let originECEF: ECEF

    /// Creates the tangent plane at an origin.
    /// - Parameter origin: The plane's (0, 0, 0); a valid position (see
    ///   ``GeoPosition/isValid``), or the results are not finite.
    /// - Complexity: O(1).
    public init(origin: GeoPosition) {
        self.origin = origin
        let phi = radians(origin.latitude)
        let lambda = radians(origin.longitude)
        sinLatitude = Double.sin(phi)
        cosLatitude = Double.cos(phi)
        sinLongitude = Double.sin(lambda)
        cosLongitude = Double.cos(lambda)
        originECEF = ECEF(origin)
    }

    /// The east, north and up offset of a position from the origin, metres.
    /// - Parameter p: The position.
    /// - Returns: The offset in the plane's frame.
    /// - Complexity: O(1).
    public func offset(of p: GeoPosition) -> (east: Double, north: Double, up: Double) {
        let q = ECEF(p)
        let dx = q.x - originECEF.x
        let dy = q.y - originECEF.y
        let dz = q.z - originECEF.z
        let east = -sinLongitude * dx + cosLongitude * dy
        let alongMeridian = cosLongitude * dx + sinLongitude * dy
        return (
            east: east,
            north: -sinLatitude * alongMeridian + cosLatitude * dz,
            up: cosLatitude * alongMeridian + sinLatitude * dz
        )
    }

    /// The position at an offset from the origin.
    /// - Parameters:
    ///   - east: Metres east of the origin.
    ///   - north: Metres north of the origin.
    ///   - up: Metres above the plane (not above the origin's altitude; see the type's
    ///     discussion).
    /// - Returns: The position, longitude in -180...180.
    /// - Complexity: O(1).
    public func position(east: Double, north: Double, up: Double = 0) -> GeoPosition {
        let alongMeridian = -sinLatitude * north + cosLatitude * up
        let q = ECEF(
            x: originECEF.x + cosLongitude * alongMeridian - sinLongitude * east,
            y: originECEF.y + sinLongitude * alongMeridian + cosLongitude * east,
            z: originECEF.z + cosLatitude * north + sinLatitude * up
        )
        return q.geodetic
    }
}

/// Earth-centred, Earth-fixed Cartesian coordinates on WGS84, metres.
struct ECEF {
    var x: Double
    var y: Double
    var z: Double

    init(x: Double, y: Double, z: Double) {
        self.x = x
        self.y = y
        self.z = z
    }

    /// The point of a geodetic position.
    init(_ p: GeoPosition) {
        let phi = radians(p.latitude)
        let lambda = radians(p.longitude)
        let s = Double.sin(phi)
        let c = Double.cos(phi)
        let n = WGS84.primeVerticalRadius(sinLatitude: s)
        x = (n + p.altitude) * c * Double.cos(lambda)
        y = (n + p.altitude) * c * Double.sin(lambda)
        z = (n * (1 - WGS84.eccentricitySquared) + p.altitude) * s
    }

    /// The geodetic position of the point.
    ///
    /// Latitude by the fixed-point iteration φ ← atan2(z + e² N(φ) sin φ, p), started
    /// from the latitude the point would have on the ellipsoid's surface; each step
    /// shrinks the error by about e² (1/150), so four steps reach the limits of `Double`
    /// for any altitude within a few hundred kilometres of the surface.
    var geodetic: GeoPosition {
        let e2 = WGS84.eccentricitySquared
        let p = (x * x + y * y).squareRoot()
        var phi = Double.atan2(y: z, x: p * (1 - e2))
        for _ in 0..<4 {
            let s = Double.sin(phi)
            phi = Double.atan2(y: z + e2 * WGS84.primeVerticalRadius(sinLatitude: s) * s, x: p)
        }
        let s = Double.sin(phi)
        let c = Double.cos(phi)
        let h = p * c + z * s - WGS84.semiMajorAxis * (1 - e2 * s * s).squareRoot()
        return GeoPosition(latitude: degrees(phi), longitude: degrees(Double.atan2(y: y, x: x)), altitude: h)
    }
}
