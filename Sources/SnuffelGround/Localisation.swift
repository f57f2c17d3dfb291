import SnuffelCore
import SnuffelGeo

/// A source found in a flight: where it most likely is, how sure, and what it is.
public struct LocatedSource: Sendable {
    /// The class of the detections it explains.
    public var signatureClass: String
    public var isConfounder: Bool
    public var position: GeoPosition
    /// Radii of the circles around `position` within which the source lies with 50 % and
    /// 95 % probability under its posterior, metres.
    public var radius50: Double
    public var radius95: Double
    /// Confidence in the class: the summed confidence of the detections behind the
    /// source's hits that name it, over the number of those detections' votes (each hit
    /// second votes once per detection covering it).
    public var confidence: Double
    /// The mean confidence of those detections that the source is a lab or dump.
    public var labConfidence: Double
    /// The detections behind the source's hits (sequence numbers), the seconds of flight
    /// whose hits its plume explains, and the clear seconds used.
    public var detections: [Int]
    public var hitSeconds: Int
    public var clearSeconds: Int
}

/// How a flight's sources were localised, or why not.
public struct LocalisationResult: Sendable {
    public var sources: [LocatedSource] = []
    /// The wind used, m/s towards east and north, and where it came from.
    public var wind: (east: Double, north: Double)?
    public var windOrigin: String
    /// Why nothing was localised, when so.
    public var note: String?
    /// The tangent plane of the maps.
    public var plane: LocalTangentPlane?
    /// The posterior map of each source (of the clear looks and the hits it explains), in
    /// the order found.
    public var posteriors: [GridMap] = []
}

extension ReplayResult {
    /// Where the air of each second of the activity log entered the inlet, in a tangent
    /// plane; nil for a second without a position.
    public func inletPlaces(plane: LocalTangentPlane) -> [(east: Double, north: Double)?] {
        activity.hit.indices.map { i in
            track.fix(at: activity.time(ofSecond: i)).map { fix in
                let o = plane.offset(of: fix.position)
                return (o.east, o.north)
            }
        }
    }

    /// The gas distribution map of the flight (Kernel DM+V with the wind-stretched kernel):
    /// the signal of each second (``ActivityLog/sigma``, the strongest fast gas channel in
    /// noise units) at the place its air entered the inlet.
    ///
    /// - Parameters:
    ///   - located: The localisation, for its wind and tangent plane (calm air and a plane
    ///     at the first position without them).
    ///   - settings: Cell size, kernel and confidence.
    /// - Returns: The map and its plane, or nil without positions during the samples.
    public func gasMap(_ located: LocalisationResult, settings: GasMapSettings = GasMapSettings())
        -> (map: GasDistributionMap, plane: LocalTangentPlane)?
    {
        guard let plane = located.plane ?? track.points.first.map({ LocalTangentPlane(origin: $0.position) }) else { return nil }
        var readings: [GasReading] = []
        for (i, place) in inletPlaces(plane: plane).enumerated() {
            guard let place, i < activity.sigma.count else { continue }
            readings.append(GasReading(east: place.east, north: place.north, value: activity.sigma[i]))
        }
        let wind = located.wind ?? (0, 0)
        return GasDistributionMap.build(readings: readings, windEast: wind.east, windNorth: wind.north, settings: settings)
            .map { ($0, plane) }
    }

    /// The gas distribution map as GeoJSON cells (see ``GasDistributionMap/features(plane:minimumConfidence:)``).
    public func gasMapFeatures(_ located: LocalisationResult, minimumConfidence: Double = 0.3) -> [GeoJSONFeature] {
        guard let (map, plane) = gasMap(located) else { return [] }
        return map.features(plane: plane, minimumConfidence: minimumConfidence)
    }
}

/// Localises the sources behind a replay's detections.
public enum Localisation {
    /// Estimates where the sources are.
    ///
    /// Every second of the flight is a look at the plumes, placed where its air entered
    /// the inlet: a hit when the payload's fastest gas sensors were in a hit during a
    /// detection, a clear look when they were quiet outside every detection (hits no
    /// detection confirmed, and quiet seconds inside detections, say nothing). Sources are
    /// found one at a time: ``SourceEstimator`` gives the posterior of a single source for
    /// the hits left and all clear looks in the wind; its peak is a source, the hits its
    /// plume explains are set aside, and the search goes on while enough hits remain. The
    /// source's position and radii then come from its own posterior, of the clear looks
    /// and the hits it explains alone: the radii are those of the circles around the
    /// position that hold 50 % and 95 % of that posterior, however far it reaches. Each
    /// source takes the class that the detections behind its hits name with the most
    /// confidence, so confounders and labs are told apart by their own detections.
    ///
    /// - Parameters:
    ///   - result: A replay.
    ///   - wind: The wind to use (m/s towards east and north) instead of the log's.
    ///   - settings: The plume model's assumptions.
    public static func locate(
        _ result: ReplayResult, wind given: (east: Double, north: Double)? = nil,
        settings: LocalisationSettings = LocalisationSettings()
    ) -> LocalisationResult {
        var out = LocalisationResult(wind: nil, windOrigin: "none")
        if let given {
            out.wind = given
            out.windOrigin = "given"
        } else if !result.wind.isEmpty {
            let n = Double(result.wind.count)
            out.wind = (result.wind.reduce(0) { $0 + Double($1.east) } / n, result.wind.reduce(0) { $0 + Double($1.north) } / n)
            out.windOrigin = "the log's wind records (mean of \(result.wind.count))"
        }
        guard let wind = out.wind else {
            out.note = "no wind known: the log records none; give it with --wind SPEED,FROM_DEG"
            return out
        }
        guard let first = result.track.points.first else {
            out.note = "no positions: nothing to localise"
            return out
        }
        let plane = LocalTangentPlane(origin: first.position)
        out.plane = plane
        let activity = result.activity
        let places = result.inletPlaces(plane: plane)
        guard let bounds = PlaneBounds.around(places.compactMap { $0 }, margin: settings.margin) else {
            out.note = "no positions during the samples: nothing to localise"
            return out
        }
        // Which detections cover each second.
        var covering = Array(repeating: [Int](), count: activity.hit.count)
        if let start = activity.start {
            for (k, d) in result.detections.enumerated() where d.end >= start {
                let a = Int((d.onset &- min(d.onset, start)) / 1_000_000)
                let b = min(activity.hit.count - 1, Int((d.end - start) / 1_000_000))
                if a <= b { for i in a...b { covering[i].append(k) } }
            }
        }
        // Hits confirmed by a detection, and clear seconds outside every detection.
        var hits: [(second: Int, look: PlumeObservation)] = []
        var clear: [PlumeObservation] = []
        for i in activity.hit.indices {
            guard let place = places[i] else { continue }
            if activity.hit[i] && !covering[i].isEmpty {
                hits.append((i, PlumeObservation(east: place.east, north: place.north, hit: true)))
            } else if !activity.hit[i] && covering[i].isEmpty {
                clear.append(PlumeObservation(east: place.east, north: place.north, hit: false))
            }
        }
        // Sources one by one: the best single source for the hits left, then the hits its
        // plume explains are set aside and the next is sought among the rest.
        let library = result.configuration.pipeline.library
        var remaining = hits
        // The clear looks are the same in every search: added once.
        let settings = settings.forLooks(clear.count + hits.count)
        var cleared = PosteriorAccumulator(windEast: wind.east, windNorth: wind.north, bounds: bounds, settings: settings)
        if hits.count >= settings.minimumHits { cleared.add(clear) }
        while remaining.count >= settings.minimumHits, out.sources.count < settings.maximumSources {
            var posterior = cleared
            posterior.add(remaining.map(\.look))
            let map = posterior.map()
            guard let best = SourceEstimator.sources(in: map, maximumCount: 1).first else { break }
            let explained = remaining.filter {
                SourceEstimator.isInPlume(observation: $0.look, sourceEast: best.east, sourceNorth: best.north,
                                          windEast: wind.east, windNorth: wind.north, settings: settings)
            }
            guard explained.count >= settings.minimumHits else { break }
            let explainsAll = explained.count == remaining.count
            let taken = Set(explained.map(\.second))
            remaining.removeAll { taken.contains($0.second) }
            // The source's own posterior: the clear looks and only the hits its plume
            // explains. The first map is that of one source explaining every hit left, so
            // the hits of other sources pull it; and its credible region belongs to this
            // source only here, where it may spread over the whole map (a region cut off
            // at some distance from the peak would state a radius no larger than the cut,
            // however far off the estimate may be).
            // (When it explains every hit left, that is the map already made.)
            var ownMap = map
            if !explainsAll {
                var own = cleared
                own.add(explained.map(\.look))
                ownMap = own.map()
            }
            // Where: the peak of the source's own map (as before, the mean of the best cells
            // holding half the probability within 40 m of it). How sure: the circles around
            // that point holding 50 % and 95 % of the whole map's probability.
            var estimate = explainsAll ? best : SourceEstimator.sources(in: ownMap, maximumCount: 1).first ?? best
            let radii = SourceEstimator.enclosingRadii(in: ownMap, east: estimate.east, north: estimate.north, shares: [0.5, 0.95])
            estimate.radius50 = radii[0]
            estimate.radius95 = radii[1]
            // The class: the detections behind the explained hits vote with their confidence.
            var votes: [String: Double] = [:]
            var threat = 0.0, weight = 0.0
            var sequences: Set<Int> = []
            for h in explained {
                for k in covering[h.second] {
                    let d = result.detections[k]
                    guard d.signatureClass != nil else { continue }
                    votes[result.className(d), default: 0] += d.confidence
                    threat += d.threatConfidence
                    weight += 1
                    sequences.insert(d.sequence)
                }
            }
            guard let (name, vote) = votes.max(by: { $0.value < $1.value }) else { continue }
            let confounder = library.classes.first { $0.id == name }?.isConfounder ?? false
            out.sources.append(LocatedSource(
                signatureClass: name, isConfounder: confounder, position: plane.position(east: estimate.east, north: estimate.north),
                radius50: estimate.radius50, radius95: estimate.radius95, confidence: vote / max(1, weight),
                labConfidence: weight > 0 ? threat / weight : 0,
                detections: sequences.sorted(), hitSeconds: explained.count, clearSeconds: clear.count))
            out.posteriors.append(ownMap)
        }
        if out.sources.isEmpty { out.note = "no detection of a known class had hits with positions" }
        return out
    }
}
