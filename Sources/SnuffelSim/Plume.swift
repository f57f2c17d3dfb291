import RealModule

/// The puff (filament) model of odour plumes, after Farrell, Murlis, Long, Li & Cardé
/// (2002), "Filament-based atmospheric dispersion model to achieve short time-scale
/// structure of odor plumes", Environmental Fluid Mechanics 2:143–169.
///
/// A source releases puffs at a steady rate; each holds a fixed volume of vapour spread as
/// an isotropic 3-D Gaussian of standard deviation `R(t)` that grows with the puff's age
/// as `R(t) = (R₀^(2/3) + γ t)^(3/2)` (Farrell et al., eq. 10: Richardson's t^(3/2) law for
/// relative dispersion). A puff moves with the wind it was released into — mean wind plus a
/// meander of direction and speed, as a frozen-turbulence field advected with the mean
/// flow — plus its own turbulent velocity, an Ornstein–Uhlenbeck process (Taylor's
/// random walk with a Lagrangian time scale `T_L`). The ground reflects: each puff has an
/// image below ground, and a puff whose centre reaches the ground bounces.
///
/// Large scales (meander, the puffs' random walks) make the plume swing and break up;
/// small scales (the growth of `R`) mix each puff. The instantaneous concentration is
/// therefore intermittent — bursts between gaps — while the time-average approaches a
/// Gaussian plume.
///
/// Parameter choice (documented here because nothing in a scenario file overrides it):
/// - `R₀ = 0.08 m`: the size of a vent or a small spill.
/// - `γ = 0.05 m^(2/3)/s`, so that `R` is 1 m after 17 s and 2.5 m after 33 s: small enough
///   that the puffs' scatter, not their size, sets the instantaneous plume's width (an
///   intermittent plume, as measured at 50 m: peak/mean ≈ 9, above 10 % of the peak less
///   than 40 % of the time), and so that with the default turbulence (0.3 m/s, `T_L` = 4 s)
///   and a meander of 5° in a 3 m/s wind the time-averaged plume's lateral σ is 5.7, 10.6
///   and 20.5 m at 50, 100 and 200 m downwind: Pasquill–Gifford class C (Briggs'
///   open-country fits: C `σy = 0.11x(1 + 0.0001x)^−½` = 5.5, 10.9, 21.8 m; D `0.08x(…)`
///   = 4.0, 8.0, 15.8 m). More meander widens it, less narrows it towards D; `PlumeTests`
///   measures it.
/// - `T_L = 4 s`, horizontal σ of the puffs' own velocity as the scenario's `turbulence`,
///   vertical 0.8 of it. The neutral surface layer has σw/σu ≈ 0.5 (Panofsky & Dutton 1984),
///   but the model has no vertical meander or convective eddies; with 0.8 the puffs' vertical
///   spread (√(R² + random walk²) ≈ 2.6, 4.4 and 8.5 m at 50, 100 and 200 m in a 3 m/s wind)
///   matches Briggs' class D σz (2.9, 5.6, 10.4 m), so a drone at 5–25 m smells ground
///   sources at the distances it does in the field.
public enum PuffModel {
    /// Initial σ of a puff, metres.
    public static let initialRadius = 0.08
    /// Growth rate γ of `R^(2/3)`, m^(2/3)/s.
    public static let growthRate = 0.05
    /// Lagrangian time scale of a puff's own turbulent velocity, seconds.
    public static let lagrangianTime = 4.0
    /// Vertical σ of the turbulent velocity relative to the horizontal.
    public static let verticalTurbulence = 0.8
    /// The puffs' turbulent velocities are updated this often (exact OU steps), seconds.
    static let turbulenceUpdate = 1.0

    /// Beyond this σ (metres) a puff is larger than the eddies that tear it apart and grows
    /// diffusively instead, `R² = R_c² + 2 σ² T_L (t − t_c)` with the horizontal turbulence σ
    /// of its wind (Taylor's long-time limit, the same diffusivity as the puffs' own random
    /// walk). At 3 m/s that is beyond 250 m downwind; it keeps long-lived puffs in light
    /// wind from growing without bound.
    public static let richardsonLimit = 10.0

    /// (2π)^(3/2), the normalisation of a 3-D Gaussian of unit σ.
    public static let gaussianNorm = Double.pow(2 * Double.pi, 1.5)
    static let initialRadiusTwoThirds = Double.pow(initialRadius, 2.0 / 3.0)
    static let limitAge = (Double.pow(richardsonLimit, 2.0 / 3.0) - initialRadiusTwoThirds) / growthRate

    /// The σ of a puff of this age, metres: `(R₀^(2/3) + γt)^(3/2)` up to ``richardsonLimit``,
    /// diffusive growth with diffusivity `turbulence² T_L` beyond.
    @inlinable
    public static func radius(age: Double, turbulence: Double = 0.3) -> Double {
        let s = Double.pow(initialRadius, 2.0 / 3.0) + growthRate * max(0, age)
        let r = s * s.squareRoot()
        if r <= richardsonLimit { return r }
        let t = (Double.pow(richardsonLimit, 2.0 / 3.0) - Double.pow(initialRadius, 2.0 / 3.0)) / growthRate
        return (richardsonLimit * richardsonLimit + 2 * turbulence * turbulence * lagrangianTime * (age - t)).squareRoot()
    }

    /// ``radius(age:turbulence:)`` without the powers.
    @inline(__always)
    static func fastRadius(age: Double, diffusivity: Double) -> Double {
        if age < limitAge {
            let s = initialRadiusTwoThirds + growthRate * max(0, age)
            return s * s.squareRoot()
        }
        return (richardsonLimit * richardsonLimit + 2 * diffusivity * (age - limitAge)).squareRoot()
    }

    /// Volume fraction at `p` of `volume` spread as a Gaussian of σ `r` centred at `c`, with
    /// the ground's image; 0 beyond 5 σ horizontally.
    @inlinable
    public static func concentration(volume: Double, radius r: Double, centre c: ENU, at p: ENU) -> Double {
        let de = p.east - c.east, dn = p.north - c.north
        let twoR2 = 2 * r * r
        let horizontal = de * de + dn * dn
        if horizontal > 12.5 * twoR2 { return 0 }  // beyond 5 σ: < 4e-6 of the peak
        let below = p.up - c.up, above = p.up + c.up
        let vertical = Double.exp(-below * below / twoR2) + Double.exp(-above * above / twoR2)
        return volume / (gaussianNorm * r * r * r) * Double.exp(-horizontal / twoR2) * vertical
    }
}

/// One puff of vapour.
public struct Puff: Sendable, Equatable {
    /// Centre, ENU metres (`up` above ground, never negative).
    public var position: ENU
    /// The wind it was released into, m/s (constant: frozen turbulence).
    public var velocity: ENU
    /// Its own turbulent velocity, m/s.
    public var turbulence: ENU
    /// Seconds since release.
    public var age: Double
    /// Volume of pure vapour, m³.
    public var volume: Double
    /// Index of the source that released it.
    public var source: Int
    /// σ of the Gaussian, metres (``PuffModel/radius(age:turbulence:)`` of ``age``).
    public var radius: Double
    /// How many neighbours a puff overlaps per metre of its radius (release rate over
    /// speed, times 3): used to decide when a puff no longer matters.
    var overlapPerMetre: Double
    /// Before this time a moving observer cannot be within reach (see
    /// ``PuffPlume/sample(at:after:observerSpeed:into:)``).
    var nextCheck = -Double.infinity

    public init(position: ENU, velocity: ENU, turbulence: ENU = .zero, age: Double = 0, volume: Double, source: Int = 0) {
        self.position = position
        self.velocity = velocity
        self.turbulence = turbulence
        self.age = age
        self.volume = volume
        self.source = source
        self.radius = PuffModel.radius(age: age)
        self.overlapPerMetre = 0
    }

    /// Volume fraction of the puff's vapour at a point, with the ground's reflection: an
    /// image puff at the mirror position below ground.
    ///
    /// `c = V / ((2π)^(3/2) R³) · exp(−r²ₕ / 2R²) · [exp(−(z − z₀)² / 2R²) + exp(−(z + z₀)² / 2R²)]`
    @inlinable
    public func concentration(at p: ENU) -> Double {
        age < 0 ? 0 : PuffModel.concentration(volume: volume, radius: radius, centre: position, at: p)
    }
}

/// The wind at the source over time: a mean speed and direction, the direction wandering
/// as an Ornstein–Uhlenbeck process (σ ``Wind/meanderDegrees``, correlation time
/// ``Wind/meanderTime``) and the speed as another (σ ``Wind/gust`` relative, correlation
/// time a quarter of the meander's, at least 2 s).
public struct WindProcess: Sendable {
    public let wind: Wind
    /// Current departure of the direction from the mean, radians.
    public private(set) var meander: Double
    /// Current relative departure of the speed, in units of ``Wind/gust``.
    public private(set) var gustiness: Double
    private var rng: SeededGenerator

    public init(wind: Wind, seed: UInt64) {
        self.wind = wind
        rng = SeededGenerator(seed: seed)
        meander = wind.meanderDegrees * .pi / 180 * rng.gaussian()
        gustiness = rng.gaussian()
    }

    /// Where the air moves TO, m/s (up is 0).
    public var velocity: ENU {
        let from = wind.fromDegrees * .pi / 180 + meander
        let speed = wind.speed * max(0.1, 1 + wind.gust * gustiness)
        return ENU(east: -speed * Double.sin(from), north: -speed * Double.cos(from), up: 0)
    }

    /// Advances both processes by `dt` seconds (exact OU steps).
    public mutating func advance(by dt: Double) {
        guard dt > 0 else { return }
        let sigma = wind.meanderDegrees * .pi / 180
        let a = Double.exp(-dt / max(wind.meanderTime, 1e-3))
        meander = meander * a + sigma * (1 - a * a).squareRoot() * rng.gaussian()
        let b = Double.exp(-dt / max(2, wind.meanderTime / 4))
        gustiness = gustiness * b + (1 - b * b).squareRoot() * rng.gaussian()
    }
}

/// A horizontal box (with a ceiling) beyond which puffs that move away are dropped.
public struct PlumeRegion: Sendable, Equatable {
    public var minEast: Double, maxEast: Double, minNorth: Double, maxNorth: Double
    /// Metres; a puff is dropped only once it is this far outside, plus 4 of its σ.
    public var margin: Double

    public init(minEast: Double, maxEast: Double, minNorth: Double, maxNorth: Double, margin: Double = 30) {
        self.minEast = minEast
        self.maxEast = maxEast
        self.minNorth = minNorth
        self.maxNorth = maxNorth
        self.margin = margin
    }
}

/// A point source of puffs.
public struct PuffEmitter: Sendable, Equatable {
    /// ENU metres, `up` the release height.
    public var position: ENU
    /// Volume of pure vapour released per second, m³.
    public var volumePerSecond: Double
    /// Puffs per second.
    public var releaseHz: Double

    public init(position: ENU, volumePerSecond: Double, releaseHz: Double) {
        self.position = position
        self.volumePerSecond = volumePerSecond
        self.releaseHz = releaseHz
    }
}

/// The puffs of all sources in one wind, stepped in time (see ``PuffModel``).
///
/// Cost is bounded: a puff is dropped once it is outside the ``PlumeRegion`` (plus 4 σ and
/// the margin) and moving away, or once its peak concentration, times the number of
/// neighbours it overlaps, is below ``negligiblePPM``; and never more than
/// ``maximumPuffs`` are kept (the oldest go first).
///
/// The plume may be stepped coarsely and sampled in between: with ``releaseAhead`` set to
/// the step, each step also releases the puffs due during the next one (with a negative
/// age until their release time), and ``sample(at:after:observerSpeed:into:)`` moves every
/// puff on along its current velocity to the moment asked for. Between turbulence updates
/// a puff moves in a straight line, so this is exact as long as the step is no longer
/// than the turbulence update (1 s).
public struct PuffPlume: Sendable {
    public let emitters: [PuffEmitter]
    public let region: PlumeRegion?
    public let negligiblePPM: Double
    public let maximumPuffs: Int
    /// Seconds beyond ``time`` up to which puffs are released in advance.
    public var releaseAhead = 0.0
    /// Seconds.
    public private(set) var time: Double
    public private(set) var puffs: [Puff] = []
    public private(set) var wind: WindProcess
    private var nextRelease: [Double]
    private var sinceTurbulenceUpdate = 0.0
    private var rng: SeededGenerator
    /// Diffusivity of the puffs' random walk, m²/s, for their growth beyond the Richardson range.
    private let diffusivity: Double

    /// - Parameters:
    ///   - emitters: The sources.
    ///   - wind: The wind.
    ///   - seed: Seeds the wind's and the puffs' random processes.
    ///   - start: The time of the first releases, seconds.
    ///   - region: Where concentrations will be asked for; `nil`: keep puffs until they are
    ///     too dilute.
    ///   - negligiblePPM: See the type's description.
    public init(emitters: [PuffEmitter], wind: Wind, seed: UInt64, start: Double = 0, region: PlumeRegion? = nil,
                negligiblePPM: Double = 1e-3, maximumPuffs: Int = 200_000) {
        self.emitters = emitters
        self.region = region
        self.negligiblePPM = negligiblePPM
        self.maximumPuffs = maximumPuffs
        diffusivity = wind.turbulence * wind.turbulence * PuffModel.lagrangianTime
        time = start
        var seeds = SeededGenerator(seed: seed)
        self.wind = WindProcess(wind: wind, seed: seeds.next())
        var rng = SeededGenerator(seed: seeds.next())
        // Sources do not release in lockstep.
        var next: [Double] = []
        for e in emitters { next.append(start + rng.uniform() / max(e.releaseHz, 1e-9)) }
        nextRelease = next
        self.rng = rng
    }

    /// Moves the plume on by `dt` seconds: existing puffs move and grow, new puffs are
    /// released (at their exact release times within the step, and ``releaseAhead``
    /// beyond), the wind changes.
    /// - Complexity: O(number of puffs).
    public mutating func advance(by dt: Double) {
        guard dt > 0 else { return }
        let end = time + dt
        sinceTurbulenceUpdate += dt
        var updateTurbulence = false
        var a = 0.0, kick = 0.0
        let sigma = wind.wind.turbulence
        if sinceTurbulenceUpdate >= PuffModel.turbulenceUpdate {
            updateTurbulence = true
            a = Double.exp(-sinceTurbulenceUpdate / PuffModel.lagrangianTime)
            kick = sigma * (1 - a * a).squareRoot()
            sinceTurbulenceUpdate = 0
        }
        // Move, grow and cull, keeping the order (oldest first).
        var kept = 0
        let count = puffs.count
        for i in 0..<count {
            var p = puffs[i]
            p.position = p.position + (p.velocity + p.turbulence) * dt
            if p.position.up < 0 {
                p.position.up = -p.position.up
                p.turbulence.up = -p.turbulence.up
            }
            p.age += dt
            p.radius = PuffModel.fastRadius(age: p.age, diffusivity: diffusivity)
            if updateTurbulence && p.age > 0 {
                let (g1, g2) = rng.gaussianPair()
                let g3 = rng.gaussian()
                p.turbulence = ENU(east: p.turbulence.east * a + kick * g1, north: p.turbulence.north * a + kick * g2,
                                   up: p.turbulence.up * a + PuffModel.verticalTurbulence * kick * g3)
                p.nextCheck = -.infinity  // its velocity changed
            }
            if isNegligible(p) { continue }
            puffs[kept] = p
            kept += 1
        }
        puffs.removeLast(count - kept)
        // Release: each new puff takes the wind of the moment and has moved for the part of
        // the step since its release (a puff due later has a negative age, and is placed
        // where it will be released).
        let velocity = wind.velocity
        for (s, e) in emitters.enumerated() where e.releaseHz > 0 && e.volumePerSecond > 0 {
            let interval = 1 / e.releaseHz
            while nextRelease[s] < end + releaseAhead {
                let age = end - nextRelease[s]
                let (g1, g2) = rng.gaussianPair()
                let turbulence = ENU(east: sigma * g1, north: sigma * g2, up: PuffModel.verticalTurbulence * sigma * rng.gaussian())
                var p = Puff(position: e.position, velocity: velocity, turbulence: turbulence, age: age,
                             volume: e.volumePerSecond * interval, source: s)
                p.position = p.position + (velocity + turbulence) * age
                if p.position.up < 0 && age > 0 { p.position.up = -p.position.up }
                p.overlapPerMetre = 3 * e.releaseHz / max(velocity.horizontalLength, 0.1)
                puffs.append(p)
                nextRelease[s] += interval
            }
        }
        if puffs.count > maximumPuffs { puffs.removeFirst(puffs.count - maximumPuffs) }
        wind.advance(by: dt)
        time = end
    }

    /// Whether a puff can no longer add anything that matters where concentrations are
    /// asked for.
    private func isNegligible(_ p: Puff) -> Bool {
        if p.age <= 0 { return false }
        let r = p.radius
        let peak = 2 * p.volume / (PuffModel.gaussianNorm * r * r * r) * 1e6
        if peak * max(1, p.overlapPerMetre * r) < negligiblePPM { return true }
        guard let box = region else { return false }
        let reach = 4 * r + box.margin
        let x = p.position, v = p.velocity
        return (x.east > box.maxEast + reach && v.east >= 0) || (x.east < box.minEast - reach && v.east <= 0)
            || (x.north > box.maxNorth + reach && v.north >= 0) || (x.north < box.minNorth - reach && v.north <= 0)
    }

    /// The concentration of each source's vapour at a point now, ppm (volume fraction × 10⁶).
    /// - Parameter ppm: Resized to the number of emitters and overwritten.
    /// - Complexity: O(number of puffs).
    public func concentrations(at point: ENU, into ppm: inout [Double]) {
        if ppm.count != emitters.count { ppm = Array(repeating: 0, count: emitters.count) }
        for s in ppm.indices { ppm[s] = 0 }
        for p in puffs {
            ppm[p.source] += p.concentration(at: point) * 1e6
        }
    }

    /// The concentration of each source's vapour, ppm, at `elapsed` seconds after ``time``
    /// (at most the step the plume is advanced by), at a point that moves at no more than
    /// `observerSpeed` m/s between calls — the drone's inlet.
    ///
    /// Each puff is moved on along its current velocity. A puff found far from the point
    /// is not looked at again until the point could have reached it (at the puff's speed,
    /// the observer's and the puff's growth, with a margin for turbulence).
    /// - Parameter ppm: Resized to the number of emitters and overwritten.
    public mutating func sample(at point: ENU, after elapsed: Double, observerSpeed: Double, into ppm: inout [Double]) {
        if ppm.count != emitters.count { ppm = Array(repeating: 0, count: emitters.count) }
        for s in ppm.indices { ppm[s] = 0 }
        let now = time + elapsed
        let turbulenceBound = 4 * wind.wind.turbulence
        for i in puffs.indices where puffs[i].nextCheck <= now {
            let p = puffs[i]
            let age = p.age + elapsed
            if age < 0 { continue }
            let velocity = p.velocity + p.turbulence
            var centre = p.position + velocity * elapsed
            centre.up = abs(centre.up)
            let r = PuffModel.fastRadius(age: age, diffusivity: diffusivity)
            let de = point.east - centre.east, dn = point.north - centre.north
            let distance = (de * de + dn * dn).squareRoot()
            if distance > 5 * r {
                // Skip while even the observer's approach, the puff's own (current) velocity,
                // a bound on its turbulence and its growth over the skip cannot close the gap.
                let skip = 5.0
                let gap = distance - 5 * PuffModel.fastRadius(age: age + skip, diffusivity: diffusivity)
                if gap > 0 {
                    let closing = observerSpeed + velocity.horizontalLength + turbulenceBound + 0.1
                    puffs[i].nextCheck = now + min(skip, gap / closing)
                }
                continue
            }
            ppm[p.source] += PuffModel.concentration(volume: p.volume, radius: r, centre: centre, at: point) * 1e6
        }
    }
}

extension SeededGenerator {
    /// Two independent standard normal deviates from one Box–Muller draw.
    mutating func gaussianPair() -> (Double, Double) {
        let u1 = max(uniform(), 1e-300)
        let u2 = uniform()
        let r = (-2 * Double.log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        return (r * Double.cos(angle), r * Double.sin(angle))
    }
}
