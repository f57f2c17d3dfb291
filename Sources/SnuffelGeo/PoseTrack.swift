/// One fix of the drone's track, time in µs on the samples' clock.
public struct TrackPoint: Sendable, Equatable {
    /// Microseconds on the samples' clock.
    public var time: UInt64
    /// Where the drone was.
    public var position: GeoPosition
    /// Velocity towards north, m/s, when known.
    public var velocityNorth: Double?
    /// Velocity towards east, m/s, when known.
    public var velocityEast: Double?
    /// 1σ horizontal accuracy of the position, metres, when known.
    public var horizontalAccuracy: Double?

    /// Creates a fix.
    /// - Parameters:
    ///   - time: Microseconds on the samples' clock.
    ///   - position: Where the drone was.
    ///   - velocityNorth: Velocity towards north, m/s, when known.
    ///   - velocityEast: Velocity towards east, m/s, when known.
    ///   - horizontalAccuracy: 1σ horizontal accuracy, metres, when known.
    public init(
        time: UInt64, position: GeoPosition,
        velocityNorth: Double? = nil, velocityEast: Double? = nil, horizontalAccuracy: Double? = nil
    ) {
        self.time = time
        self.position = position
        self.velocityNorth = velocityNorth
        self.velocityEast = velocityEast
        self.horizontalAccuracy = horizontalAccuracy
    }

    /// The horizontal velocity (east, north), m/s, when both components are known.
    var velocity: (east: Double, north: Double)? {
        guard let velocityEast, let velocityNorth else { return nil }
        return (velocityEast, velocityNorth)
    }
}

/// Where the drone was at one time.
public struct TrackFix: Sendable, Equatable {
    /// Microseconds on the samples' clock.
    public var time: UInt64
    /// The interpolated position.
    public var position: GeoPosition
    /// Horizontal speed, m/s.
    public var speed: Double
    /// Seconds between the two fixes interpolated between; 0 at a fix; beyond an end of
    /// the track, the seconds from that end fix.
    public var gap: Double
    /// 1σ horizontal accuracy, metres: the larger of the two fixes' when both are known,
    /// the known one's otherwise.
    public var horizontalAccuracy: Double?

    /// Creates a fix.
    /// - Parameters:
    ///   - time: Microseconds on the samples' clock.
    ///   - position: The position.
    ///   - speed: Horizontal speed, m/s.
    ///   - gap: Seconds between the fixes interpolated between, 0 at a fix.
    ///   - horizontalAccuracy: 1σ horizontal accuracy, metres, when known.
    public init(time: UInt64, position: GeoPosition, speed: Double, gap: Double, horizontalAccuracy: Double? = nil) {
        self.time = time
        self.position = position
        self.speed = speed
        self.gap = gap
        self.horizontalAccuracy = horizontalAccuracy
    }
}

/// A drone track: fixes sorted by time, interpolated linearly.
///
/// Interpolation is linear in the east-north-up tangent plane at the earlier fix of the
/// two (see ``LocalTangentPlane``), so a track that crosses the dateline or passes over
/// a pole is interpolated along the short way. Between two fixes further apart than
/// ``maximumGap`` there is no position; up to 1 s beyond either end the position is
/// extrapolated with the end fix's velocity (when known) or the end segment's mean
/// velocity (when that segment is no gap), else held.
public struct PoseTrack: Sendable {
    /// The valid fixes, sorted by time, one per time.
    public private(set) var points: [TrackPoint]
    /// How many input points were left out: non-finite or out-of-range positions, and
    /// later points with the time of an earlier one. `points.count + droppedPointCount`
    /// is the number of input points.
    public private(set) var droppedPointCount: Int
    /// Seconds: between fixes further apart than this, there is no position.
    public private(set) var maximumGap: Double
    /// Metres along the track: the sum of the horizontal distances between consecutive
    /// fixes (over gaps too).
    /// - Complexity: O(1); computed when the track is created.
    public private(set) var length: Double

    /// How far beyond its ends the track still gives a position, µs.
    static let endTolerance: UInt64 = 1_000_000

    /// Creates a track from fixes in any order.
    ///
    /// Sorts the points by time and keeps the first (in input order) of points with
    /// equal times. Points whose position is not finite or whose latitude or longitude
    /// is outside -90...90 or -180...180 are left out; both kinds are counted in
    /// ``droppedPointCount``. A non-finite velocity component, or a non-finite or
    /// negative accuracy, is kept as unknown (nil).
    /// - Parameters:
    ///   - points: The fixes.
    ///   - maximumGap: Seconds; between fixes further apart than this there is no
    ///     position. NaN or a negative value counts as 0 (only exact fix times).
    /// - Complexity: O(n log n) for n points.
    public init(points: some Sequence<TrackPoint>, maximumGap: Double = 5) {
        var input = 0
        var valid: [TrackPoint] = []
        for var point in points {
            input += 1
            guard point.position.isValid else { continue }
            if let v = point.velocityNorth, !v.isFinite { point.velocityNorth = nil }
            if let v = point.velocityEast, !v.isFinite { point.velocityEast = nil }
            if let a = point.horizontalAccuracy, !(a.isFinite && a >= 0) { point.horizontalAccuracy = nil }
            valid.append(point)
        }
        // Swift's sort is stable, so the first of equal times stays first.
        valid.sort { $0.time < $1.time }
        var kept: [TrackPoint] = []
        kept.reserveCapacity(valid.count)
        for point in valid where kept.last?.time != point.time {
            kept.append(point)
        }
        var length = 0.0
        for (a, b) in zip(kept, kept.dropFirst()) {
            let o = LocalTangentPlane(origin: a.position).offset(of: b.position)
            length += (o.east * o.east + o.north * o.north).squareRoot()
        }
        self.points = kept
        self.droppedPointCount = input - kept.count
        self.maximumGap = maximumGap >= 0 ? maximumGap : 0
        self.length = length
    }

    /// The first to the last fix's time, or nil for an empty track.
    public var timeRange: ClosedRange<UInt64>? {
        guard let first = points.first, let last = points.last else { return nil }
        return first.time...last.time
    }

    /// Where the drone was at a time.
    /// - Parameter time: Microseconds on the samples' clock.
    /// - Returns: The fix, or nil when the track is empty, the time is more than 1 s
    ///   beyond its ends, or the time falls strictly inside a gap longer than
    ///   ``maximumGap`` (at the gap's edge fixes there is a position).
    /// - Complexity: O(log n).
    public func fix(at time: UInt64) -> TrackFix? {
        if case .fix(let fix) = lookup(time) { return fix }
        return nil
    }

    /// What the track says about a time.
    enum Lookup {
        case fix(TrackFix)
        case empty
        case outside
        case gap(seconds: Double)
    }

    /// Where the drone was at a time, or why the track cannot say.
    /// - Complexity: O(log n).
    func lookup(_ time: UInt64) -> Lookup {
        guard let first = points.first, let last = points.last else { return .empty }
        if time < first.time {
            guard first.time - time <= Self.endTolerance else { return .outside }
            return .fix(extrapolate(from: 0, to: time))
        }
        if time > last.time {
            guard time - last.time <= Self.endTolerance else { return .outside }
            return .fix(extrapolate(from: points.count - 1, to: time))
        }
        // The last index whose time is at or before `time`.
        var low = 0
        var high = points.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if points[mid].time <= time { low = mid } else { high = mid - 1 }
        }
        let a = points[low]
        if a.time == time {
            return .fix(TrackFix(time: time, position: a.position, speed: speed(at: low), gap: 0, horizontalAccuracy: a.horizontalAccuracy))
        }
        let b = points[low + 1]
        let gap = seconds(b.time - a.time)
        guard gap <= maximumGap else { return .gap(seconds: gap) }
        let f = seconds(time - a.time) / gap
        let plane = LocalTangentPlane(origin: a.position)
        let o = plane.offset(of: b.position)
        let speed: Double
        if let va = a.velocity, let vb = b.velocity {
            let east = va.east + f * (vb.east - va.east)
            let north = va.north + f * (vb.north - va.north)
            speed = (east * east + north * north).squareRoot()
        } else {
            speed = (o.east * o.east + o.north * o.north).squareRoot() / gap
        }
        return .fix(TrackFix(
            time: time,
            position: plane.position(east: f * o.east, north: f * o.north, up: f * o.up),
            speed: speed, gap: gap,
            horizontalAccuracy: Self.larger(a.horizontalAccuracy, b.horizontalAccuracy)))
    }

    /// The fix at a time up to 1 s beyond the end point `index` (0 or the last).
    private func extrapolate(from index: Int, to time: UInt64) -> TrackFix {
        let end = points[index]
        let dt = time >= end.time ? seconds(time - end.time) : -seconds(end.time - time)
        let plane = LocalTangentPlane(origin: end.position)
        let v = end.velocity ?? segmentVelocity(index == 0 ? 0 : index - 1)
        let position = v.map { plane.position(east: $0.east * dt, north: $0.north * dt) } ?? end.position
        return TrackFix(time: time, position: position, speed: speed(at: index), gap: abs(dt), horizontalAccuracy: end.horizontalAccuracy)
    }

    /// The mean horizontal velocity (east, north) from fix `i` to fix `i + 1`, m/s, or
    /// nil when there is no such segment or it is a gap.
    private func segmentVelocity(_ i: Int) -> (east: Double, north: Double)? {
        guard i >= 0, i + 1 < points.count else { return nil }
        let dt = seconds(points[i + 1].time - points[i].time)
        guard dt <= maximumGap else { return nil }
        let o = LocalTangentPlane(origin: points[i].position).offset(of: points[i + 1].position)
        return (o.east / dt, o.north / dt)
    }

    /// The horizontal speed at fix `i`: its own velocity when known, else the mean speed
    /// of the segment after it, else of the one before it (gaps do not count), else 0.
    private func speed(at i: Int) -> Double {
        guard let v = points[i].velocity ?? segmentVelocity(i) ?? segmentVelocity(i - 1) else { return 0 }
        return (v.east * v.east + v.north * v.north).squareRoot()
    }

    private static func larger(_ a: Double?, _ b: Double?) -> Double? {
        guard let a else { return b }
        guard let b else { return a }
        return max(a, b)
    }
}

/// Microseconds to seconds.
@inline(__always)
func seconds(_ microseconds: UInt64) -> Double { Double(microseconds) / 1e6 }
