import RealModule

/// The path a flight plan makes: a polyline flown at constant ground speed, starting at
/// its first point at altitude (no take-off) and turning on the spot at each corner.
struct FlightPath: Sendable {
    /// ENU, `up` above ground.
    let points: [ENU]
    /// Distance along the path at each point, metres.
    let distances: [Double]
    let speed: Double

    init(points: [ENU], speed: Double) {
        var distances = [0.0]
        distances.reserveCapacity(points.count)
        for i in points.indices.dropFirst() {
            distances.append(distances[i - 1] + (points[i] - points[i - 1]).length)
        }
        self.points = points
        self.distances = distances
        self.speed = speed
    }

    init(plan: FlightPlan) {
        switch plan.pattern {
        case .waypoints(let points, let speed):
            self.init(points: points, speed: speed)
        case .lawnmower(let m):
            self.init(points: FlightPath.lawnmowerCorners(m), speed: m.speed)
        }
    }

    /// Corners of a lawnmower pattern: lines along the heading, stepping to the right.
    static func lawnmowerCorners(_ m: Lawnmower) -> [ENU] {
        let heading = m.heading * .pi / 180
        let along = (east: Double.sin(heading), north: Double.cos(heading))
        let right = (east: Double.cos(heading), north: -Double.sin(heading))
        let lines = max(1, Int((m.width / m.spacing + 1e-9).rounded(.down)) + 1)
        let across = Double(lines - 1) * m.spacing
        var corners: [ENU] = []
        corners.reserveCapacity(2 * lines)
        for line in 0..<lines {
            let offset = -across / 2 + Double(line) * m.spacing
            let rear = -m.length / 2, front = m.length / 2
            let ends = line % 2 == 0 ? [rear, front] : [front, rear]
            for a in ends {
                corners.append(ENU(
                    east: m.centreEast + a * along.east + offset * right.east,
                    north: m.centreNorth + a * along.north + offset * right.north,
                    up: m.altitude))
            }
        }
        return corners
    }

    /// Length of the whole path, metres.
    var length: Double { distances.last ?? 0 }

    /// Time to fly the whole path, seconds.
    var duration: Double { length / speed }

    /// Position and velocity at `t` seconds from the start; after the end the drone hovers
    /// at the last point.
    /// - Parameter segment: A hint, the segment index of the previous call (the search
    ///   moves forward from it); updated.
    func state(at t: Double, segment: inout Int) -> (position: ENU, velocity: ENU) {
        let d = t * speed
        guard points.count >= 2, d < length else { return (points.last ?? .zero, .zero) }
        if segment >= points.count - 1 || distances[segment] > d { segment = 0 }
        while segment < points.count - 2 && distances[segment + 1] <= d { segment += 1 }
        let a = points[segment], b = points[segment + 1]
        let span = distances[segment + 1] - distances[segment]
        guard span > 0 else { return (a, .zero) }
        let f = (d - distances[segment]) / span
        return (a + (b - a) * f, (b - a) * (speed / span))
    }

    /// The horizontal bounding box of the path.
    var bounds: (minEast: Double, maxEast: Double, minNorth: Double, maxNorth: Double, maxUp: Double) {
        var box = (minEast: Double.infinity, maxEast: -Double.infinity, minNorth: Double.infinity,
                   maxNorth: -Double.infinity, maxUp: 0.0)
        for p in points {
            box.minEast = min(box.minEast, p.east)
            box.maxEast = max(box.maxEast, p.east)
            box.minNorth = min(box.minNorth, p.north)
            box.maxNorth = max(box.maxNorth, p.north)
            box.maxUp = max(box.maxUp, p.up)
        }
        return box
    }
}
