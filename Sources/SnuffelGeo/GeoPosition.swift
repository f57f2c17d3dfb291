import RealModule

/// WGS84 position: degrees, metres above mean sea level.
///
/// Latitude is positive north, longitude positive east. The type holds any values; the
/// consumers (``PoseTrack``, ``GeoJSON``) check ranges and finiteness where it matters.
public struct GeoPosition: Sendable, Equatable {
    /// Degrees, -90...90, positive north.
    public var latitude: Double
    /// Degrees, -180...180, positive east.
    public var longitude: Double
    /// Metres above mean sea level.
    public var altitude: Double

    /// Creates a position.
    /// - Parameters:
    ///   - latitude: Degrees, -90...90, positive north.
    ///   - longitude: Degrees, -180...180, positive east.
    ///   - altitude: Metres above mean sea level.
    public init(latitude: Double, longitude: Double, altitude: Double = 0) {
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
    }

    /// Whether latitude, longitude and altitude are finite and latitude and longitude
    /// are within -90...90 and -180...180.
    public var isValid: Bool {
        latitude.isFinite && longitude.isFinite && altitude.isFinite
            && (-90...90).contains(latitude) && (-180...180).contains(longitude)
    }
}

/// The WGS84 ellipsoid's defining constants and the ones derived from them.
enum WGS84 {
    /// Semi-major axis, metres.
    static let semiMajorAxis = 6_378_137.0
    /// Flattening.
    static let flattening = 1 / 298.257_223_563
    /// First eccentricity squared, e² = f(2 - f).
    static let eccentricitySquared = flattening * (2 - flattening)
    /// The mean radius R₁ = (2a + b) / 3, metres (the radius of `horizontalDistance`).
    static let meanRadius = 6_371_008.8

    /// Prime-vertical radius of curvature N(φ) = a / √(1 − e² sin² φ), metres.
    static func primeVerticalRadius(sinLatitude s: Double) -> Double {
        semiMajorAxis / (1 - eccentricitySquared * s * s).squareRoot()
    }
}

/// Degrees to radians.
@inline(__always)
func radians(_ degrees: Double) -> Double { degrees * (Double.pi / 180) }

/// Radians to degrees.
@inline(__always)
func degrees(_ radians: Double) -> Double { radians * (180 / Double.pi) }

/// Great-circle horizontal distance between two positions, metres.
///
/// The haversine formula on a sphere of the WGS84 mean radius, 6 371 008.8 m; altitudes
/// are ignored. Against the ellipsoid the error is up to about 0.5 % (a sphere is not an
/// ellipsoid); for metre-exact short distances use ``LocalTangentPlane``.
/// - Parameters:
///   - a: One position.
///   - b: The other position.
/// - Returns: The distance in metres, 0...π·R; NaN if a coordinate is not finite.
/// - Complexity: O(1).
public func horizontalDistance(_ a: GeoPosition, _ b: GeoPosition) -> Double {
    let phi1 = radians(a.latitude)
    let phi2 = radians(b.latitude)
    let sinHalfDPhi = Double.sin((phi2 - phi1) / 2)
    let sinHalfDLambda = Double.sin(radians(b.longitude - a.longitude) / 2)
    let h = sinHalfDPhi * sinHalfDPhi + Double.cos(phi1) * Double.cos(phi2) * sinHalfDLambda * sinHalfDLambda
    return 2 * WGS84.meanRadius * Double.asin((h > 1 ? 1 : h).squareRoot())  // `h > 1` keeps NaN
}
