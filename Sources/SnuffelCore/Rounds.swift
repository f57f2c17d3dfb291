/// The batched path: whole time steps ("rounds", one sample of every channel, in channel
/// order) with the gas channels side by side in SIMD vectors.
///
/// A round goes this way only when every gas channel is on the quiet path: warmed up, no
/// hit, no hold of the baseline, no open event, no gap, every value valid, and nothing in
/// the round crossing a hit threshold. A run of up to `stageCapacity` rounds is computed
/// into a second copy of the channels' state, each vector of channels over the whole run
/// with its state in registers; the run ends before the first round where any channel
/// leaves the quiet path, and that round goes through the per-sample path, sample by
/// sample, as if the batched path did not exist. On the quiet path every operation is the
/// per-sample path's, in the same order, on the same values (the selects pick what its
/// branches would), so the two give the same results bit for bit: `Pipeline.process`
/// gives the same detections for any chunking, and the tests compare every channel's
/// state after every chunk.
///
/// While a batch runs, the gas channels' state lives here (struct of arrays); it is
/// written back to the lanes before any sample takes the per-sample path and at the end
/// of the batch, so nothing outside a batch ever sees the copy.
@usableFromInline
struct RoundKernel {
    typealias V = SIMD8<Double>
    typealias U = SIMD8<UInt64>
    typealias M = SIMDMask<SIMD8<Int64>>
    static var width: Int { V.scalarCount }

    /// Constants of eight gas channels.
    struct Constants {
        var offset = V(), gain = V(), temperatureCoefficient = V(), humidityCoefficient = V()
        var referenceTemperature = V(), referenceAbsoluteHumidity = V()
        var validMin = V(), validMax = V(), riseTau = V(), decayTau = V(), noiseFloor2 = V()
        var delayUs = U()
        /// The longest of the channels' delays.
        var maxDelayUs: UInt64 = 0
        /// Per slot 1 where true, 0 where not: masks made by comparing these where they are
        /// used are known to the compiler as comparison results (AVX-512 mask registers,
        /// SSE2 sign bits), which makes `any` of them one instruction instead of a
        /// reduction of 64-bit lanes.
        var isVOC = V(), isMoxResistance = V(), noSmoothing = V(), active = V()
    }

    /// The filter coefficients for each channel's last sample interval (``Lane/prepare(dtUs:)``).
    struct Coefficients {
        var dt = V(), inverseDt = V(), smoothPerSecond = V(), alphaUp = V(), betaUp = V(), alphaNoise = V()
        var cachedDtUs = U()
    }

    /// What a quiet sample changes in a gas channel.
    struct State {
        var level = V(), trend = V(), smooth = V(), recovered = V(), previous1 = V(), previous2 = V()
        var noiseVariance = V(), smoothNoiseVariance = V(), rearmLevel = V(), physical = V()
        var lastTime = U()
    }

    /// The lane fields that ``State`` holds while a batch runs (and `lastTime`), each
    /// with its vector: ``load(_:)`` and ``writeBack(_:ring:)`` copy these.
    let fields: [(WritableKeyPath<Lane, Double>, WritableKeyPath<State, V>)] = [
        (\.level, \.level), (\.trend, \.trend), (\.smooth, \.smooth), (\.recovered, \.recovered),
        (\.previous1, \.previous1), (\.previous2, \.previous2), (\.noiseVariance, \.noiseVariance),
        (\.smoothNoiseVariance, \.smoothNoiseVariance), (\.rearmLevel, \.rearmLevel), (\.physical, \.physical),
    ]

    /// The history entries of a round (``Engine/record(_:inlet:excess:recovered:)``),
    /// staged for a few rounds and then written to each channel's ring in one go.
    struct Pending {
        var inlet = U(), excess = V(), recovered = V()
    }

    let gasCount: Int
    let vectors: Int
    /// Channel index of each gas slot; padding slots point at channel 0.
    let gasChannel: UnsafeMutablePointer<Int>
    /// Per vector: the segments (how many temperature or humidity channels come before a
    /// slot in a round) present in it, and the mask of the slots in each.
    let segmentCount: Int
    let segmentMask: UnsafeMutablePointer<M>
    let segmentUsed: UnsafeMutablePointer<Bool>
    /// Temperature and humidity channels, in round order.
    let environmentChannels: [Int]
    /// Gas slots whose conversion takes a logarithm (MOX resistance), and those with a gas index.
    let logSlots: [Int]
    let gasIndexSlots: [Int]

    let constants: UnsafeMutablePointer<Constants>
    let coefficients: UnsafeMutablePointer<Coefficients>
    /// Two copies of the state, `vectors` each: the current one and the one a round is computed into.
    let states: UnsafeMutablePointer<State>
    var current = 0
    /// `stageCapacity` rounds of history entries, `vectors` each.
    let staged: UnsafeMutablePointer<Pending>
    var stagedRounds = 0
    static var stageCapacity: Int { 128 }
    /// Per round of a run (`stageCapacity` at most): the temperature and absolute humidity
    /// each segment saw, the temperature and humidity channels' values, the air after the
    /// round, and the newest time so far.
    let segmentTemperature: UnsafeMutablePointer<Double>
    let segmentHumidity: UnsafeMutablePointer<Double>
    let environmentValue: UnsafeMutablePointer<Double>
    let airAfter: UnsafeMutablePointer<Environment>
    let newestAfter: UnsafeMutablePointer<UInt64>
    /// Per round of a run: whether all its samples share one time (most payloads sample
    /// all channels at each tick), which then need not be gathered channel by channel.
    let sharedTime: UnsafeMutablePointer<Bool>

    /// Whether the state above is the channels' (loaded, not yet written back).
    var loaded = false
    /// Rounds that went this way.
    var rounds = 0

    /// A kernel for a payload (one with no gas channel never takes the batched path).
    init(lanes: UnsafeMutablePointer<Lane>, count: Int) {
        var gas: [Int] = []
        var environment: [Int] = []
        var segmentOf: [Int] = []
        for i in 0..<count {
            if lanes[i].kind.isGas {
                gas.append(i)
                segmentOf.append(environment.count)
            } else {
                environment.append(i)
            }
        }
        let w = RoundKernel.width
        gasCount = gas.count
        vectors = (gas.count + w - 1) / w
        environmentChannels = environment
        segmentCount = environment.count + 1
        gasChannel = .allocate(capacity: vectors * w)
        gasChannel.initialize(repeating: 0, count: vectors * w)
        segmentMask = .allocate(capacity: vectors * segmentCount)
        segmentMask.initialize(repeating: M(repeating: false), count: vectors * segmentCount)
        segmentUsed = .allocate(capacity: vectors * segmentCount)
        segmentUsed.initialize(repeating: false, count: vectors * segmentCount)
        constants = .allocate(capacity: vectors)
        constants.initialize(repeating: Constants(), count: vectors)
        coefficients = .allocate(capacity: vectors)
        coefficients.initialize(repeating: Coefficients(), count: vectors)
        states = .allocate(capacity: 2 * vectors)
        states.initialize(repeating: State(), count: 2 * vectors)
        staged = .allocate(capacity: RoundKernel.stageCapacity * vectors)
        staged.initialize(repeating: Pending(), count: RoundKernel.stageCapacity * vectors)
        let runs = RoundKernel.stageCapacity
        segmentTemperature = .allocate(capacity: runs * segmentCount)
        segmentTemperature.initialize(repeating: .nan, count: runs * segmentCount)
        segmentHumidity = .allocate(capacity: runs * segmentCount)
        segmentHumidity.initialize(repeating: .nan, count: runs * segmentCount)
        environmentValue = .allocate(capacity: runs * max(1, environment.count))
        environmentValue.initialize(repeating: .nan, count: runs * max(1, environment.count))
        airAfter = .allocate(capacity: runs)
        airAfter.initialize(repeating: Environment(), count: runs)
        newestAfter = .allocate(capacity: runs)
        newestAfter.initialize(repeating: 0, count: runs)
        sharedTime = .allocate(capacity: runs)
        sharedTime.initialize(repeating: false, count: runs)
        var logs: [Int] = []
        var indexed: [Int] = []
        let constantFields: [(KeyPath<Lane, Double>, WritableKeyPath<Constants, V>)] = [
            (\.offset, \.offset), (\.gain, \.gain), (\.temperatureCoefficient, \.temperatureCoefficient),
            (\.humidityCoefficient, \.humidityCoefficient), (\.referenceTemperature, \.referenceTemperature),
            (\.referenceAbsoluteHumidity, \.referenceAbsoluteHumidity), (\.validMin, \.validMin),
            (\.validMax, \.validMax), (\.riseTau, \.riseTau), (\.decayTau, \.decayTau),
            (\.noiseFloor2, \.noiseFloor2),
        ]
        for (g, channel) in gas.enumerated() {
            gasChannel[g] = channel
            let lane = lanes[channel]
            let v = g / w, e = g % w
            segmentMask[v * segmentCount + segmentOf[g]][e] = true
            segmentUsed[v * segmentCount + segmentOf[g]] = true
            if lane.kind == .moxResistance { logs.append(g) }
            if lane.gasIndex != nil { indexed.append(g) }
            for (field, vector) in constantFields { constants[v][keyPath: vector][e] = lane[keyPath: field] }
            constants[v].delayUs[e] = lane.delayUs
            constants[v].maxDelayUs = max(constants[v].maxDelayUs, lane.delayUs)
            constants[v].isVOC[e] = lane.kind == .srawVOC ? 1 : 0
            constants[v].isMoxResistance[e] = lane.kind == .moxResistance ? 1 : 0
            constants[v].noSmoothing[e] = lane.smoothTau > 0 ? 0 : 1
            constants[v].active[e] = 1
        }
        logSlots = logs
        gasIndexSlots = indexed
    }

    func deallocate() {
        gasChannel.deallocate()
        segmentMask.deallocate()
        segmentUsed.deallocate()
        constants.deallocate()
        coefficients.deallocate()
        states.deallocate()
        staged.deallocate()
        segmentTemperature.deallocate()
        segmentHumidity.deallocate()
        environmentValue.deallocate()
        airAfter.deallocate()
        newestAfter.deallocate()
        sharedTime.deallocate()
    }

    // MARK: Loading and writing back

    /// Whether a gas channel is on the quiet path, where the batched path can take it.
    @inline(__always)
    static func isQuiet(_ l: UnsafeMutablePointer<Lane>) -> Bool {
        l.pointee.hasSample && l.pointee.initialised && l.pointee.warmedUp && !l.pointee.reseed
            && !l.pointee.inHit && l.pointee.spikeFill >= 2 && l.pointee.frozenSince == 0
            && l.pointee.aboveSince == 0 && l.pointee.noiseGateShutSince == 0 && l.pointee.ringCapacity > 0
    }

    /// Copies the gas channels' state in.
    /// - Returns: false (nothing loaded) unless every gas channel is on the quiet path.
    mutating func load(_ lanes: UnsafeMutablePointer<Lane>) -> Bool {
        let w = RoundKernel.width
        for g in 0..<gasCount where !RoundKernel.isQuiet(lanes + gasChannel[g]) { return false }
        let base = current * vectors
        for g in 0..<gasCount {
            let l = lanes + gasChannel[g]
            let v = g / w, e = g % w
            let s = states + base + v
            for (field, vector) in fields { s.pointee[keyPath: vector][e] = l.pointee[keyPath: field] }
            s.pointee.lastTime[e] = l.pointee.lastTime
            copyCoefficients(from: l, vector: v, element: e)
        }
        loaded = true
        return true
    }

    /// Copies the gas channels' state back into the lanes, and the staged history into
    /// their rings.
    mutating func writeBack(_ lanes: UnsafeMutablePointer<Lane>, ring: Ring) {
        guard loaded else { return }
        loaded = false
        writeStaged(lanes, ring: ring)
        let w = RoundKernel.width
        let base = current * vectors
        for g in 0..<gasCount {
            let l = lanes + gasChannel[g]
            let s = states[base + g / w]
            let e = g % w
            for (field, vector) in fields { l.pointee[keyPath: field] = s[keyPath: vector][e] }
            l.pointee.lastTime = s.lastTime[e]
        }
    }

    /// Writes the staged history entries into the channels' rings, oldest first, as
    /// ``Engine/record(_:inlet:excess:recovered:)`` would have one by one (no event is
    /// open on the batched path, so no overrun is possible).
    mutating func writeStaged(_ lanes: UnsafeMutablePointer<Lane>, ring: Ring) {
        let rounds = stagedRounds
        guard rounds > 0 else { return }
        stagedRounds = 0
        let w = RoundKernel.width
        for g in 0..<gasCount {
            let l = lanes + gasChannel[g]
            let v = g / w, e = g % w
            let start = l.pointee.ringStart, capacity = l.pointee.ringCapacity
            var head = l.pointee.ringHead
            var r = 0
            while r < rounds {
                // Up to the end of the ring, then on from its start.
                let run = min(rounds - r, capacity - head)
                let time = ring.time + start + head, excess = ring.excess + start + head
                let recovered = ring.recovered + start + head
                var entry = staged + r * vectors + v
                for j in 0..<run {
                    time[j] = entry.pointee.inlet[e]
                    excess[j] = entry.pointee.excess[e]
                    recovered[j] = entry.pointee.recovered[e]
                    entry += vectors
                }
                r += run
                head += run
                if head == capacity { head = 0 }
            }
            l.pointee.ringHead = head
            l.pointee.ringCount = min(capacity, l.pointee.ringCount + rounds)
        }
    }

    @inline(__always)
    func copyCoefficients(from l: UnsafeMutablePointer<Lane>, vector v: Int, element e: Int) {
        let c = coefficients + v
        c.pointee.dt[e] = l.pointee.dt
        c.pointee.inverseDt[e] = l.pointee.inverseDt
        c.pointee.smoothPerSecond[e] = l.pointee.smoothPerSecond
        c.pointee.alphaUp[e] = l.pointee.alphaUp
        c.pointee.betaUp[e] = l.pointee.betaUp
        c.pointee.alphaNoise[e] = l.pointee.alphaNoise
        c.pointee.cachedDtUs[e] = l.pointee.cachedDtUs
    }
}

/// The three arrays of the channels' history rings (each channel its own slice).
struct Ring {
    let time: UnsafeMutablePointer<UInt64>
    let excess: UnsafeMutablePointer<Double>
    let recovered: UnsafeMutablePointer<Double>
}

extension Engine {
    /// Processes a buffer of samples in order, runs of whole rounds on the batched path
    /// where it applies; the same results as one ``process(_:)`` per sample.
    mutating func process(batch: UnsafeBufferPointer<Sample>) {
        // A batch of a few rounds (the daemon's one time step, say) goes sample by sample:
        // copying the state in and out would cost more than the batch saves.
        guard let base = batch.baseAddress, kernel.gasCount > 0, batch.count >= 4 * laneCount else {
            for s in batch { process(s) }
            return
        }
        let n = laneCount
        let count = batch.count
        var i = 0
        // After a round that could not be batched, the next few go sample by sample:
        // a channel off the quiet path usually stays off it for a while (a hit, a hold).
        var wait = 0
        while i < count {
            if wait == 0 && count - i >= n && base[i].channel == 0 && !eventOpen {
                if !kernel.loaded && !kernel.load(lanes) {
                    wait = 2 * n
                } else {
                    let done = processRounds(base + i, available: (count - i) / n)
                    if done > 0 {
                        i += done * n
                        continue
                    }
                    kernel.writeBack(lanes, ring: ring)
                    wait = 2 * n
                }
            }
            if kernel.loaded { kernel.writeBack(lanes, ring: ring) }
            process(base[i])
            i += 1
            if wait > 0 { wait -= 1 }
        }
        kernel.writeBack(lanes, ring: ring)
    }

    /// The history rings of all channels.
    var ring: Ring { Ring(time: ringTime, excess: ringExcess, recovered: ringRecovered) }

    /// A run of up to `available` rounds from `p` on the batched path, as far as every
    /// gas channel stays on the quiet path.
    /// - Returns: how many rounds were processed; 0, having changed nothing, if the first
    ///   round cannot be batched.
    mutating func processRounds(_ p: UnsafePointer<Sample>, available: Int) -> Int {
        guard !eventOpen else { return 0 }
        if kernel.stagedRounds == RoundKernel.stageCapacity { kernel.writeStaged(lanes, ring: ring) }
        let rk = kernel
        let n = laneCount
        let segments = rk.segmentCount
        let environmentCount = rk.environmentChannels.count

        // Whole rounds, and temperature and humidity in round order into a copy of the
        // environment, as far as both are valid.
        var rounds = min(available, RoundKernel.stageCapacity - rk.stagedRounds)
        var air = environment
        var newest = latestTime
        for r in 0..<rounds {
            let q = p + r * n
            var valid = true
            var shared = true
            let first = q[0].time
            for k in 0..<n {
                let s = q[k]
                // (Gas values are checked for finiteness with their range, in `advance`.)
                if Int(s.channel) != k { valid = false; break }
                if s.time > newest { newest = s.time }
                shared = shared && s.time == first
            }
            rk.sharedTime[r] = shared
            if !valid { rounds = r; break }
            rk.segmentTemperature[r * segments] = air.temperature
            rk.segmentHumidity[r * segments] = air.absoluteHumidity
            for j in 0..<environmentCount {
                let channel = rk.environmentChannels[j]
                let lane = lanes + channel
                let s = q[channel]
                let previous = r == 0 ? lane.pointee.lastTime : (q - n)[channel].time
                if (r > 0 || lane.pointee.hasSample) && s.time <= previous { valid = false; break }
                if !s.value.isFinite || !lane.pointee.inRange(s.value) { valid = false; break }
                let y = lane.pointee.convert(s.value)
                if lane.pointee.kind == .temperature { air.temperature = y } else { air.relativeHumidity = y }
                _ = air.update(time: s.time)
                rk.environmentValue[r * environmentCount + j] = y
                rk.segmentTemperature[r * segments + j + 1] = air.temperature
                rk.segmentHumidity[r * segments + j + 1] = air.absoluteHumidity
            }
            if !valid { rounds = r; break }
            rk.airAfter[r] = air
            rk.newestAfter[r] = newest
        }

        // The gas channels, vector by vector, each over the run; a vector that leaves the
        // quiet path shortens the run for all, and vectors that went further are redone.
        var limit = rounds
        var shortened = false
        for v in 0..<rk.vectors {
            let r = advance(vector: v, rounds: limit, from: p)
            if r < limit {
                limit = r
                shortened = v > 0
            }
        }
        guard limit > 0 else { return 0 }
        if shortened {
            // Vectors before the one that shortened the run went further than it.
            for v in 0..<rk.vectors { _ = advance(vector: v, rounds: limit, from: p) }
        }

        // Kept: the new state becomes the current one, then what the lanes hold themselves.
        kernel.current = 1 - rk.current
        kernel.rounds += limit
        kernel.stagedRounds += limit
        environment = rk.airAfter[limit - 1]
        let last = p + (limit - 1) * n
        for j in 0..<environmentCount {
            let channel = rk.environmentChannels[j]
            lanes[channel].touch(last[channel].time, physical: rk.environmentValue[(limit - 1) * environmentCount + j])
        }
        for g in rk.gasIndexSlots {
            let channel = rk.gasChannel[g]
            for r in 0..<limit {
                let s = p[r * n + channel]
                lanes[channel].gasIndexStep(time: s.time, raw: s.value, interval: gasIndexIntervalUs)
            }
        }
        health.accepted += n * limit
        latestTime = rk.newestAfter[limit - 1]
        return limit
    }

    /// Runs one vector of gas channels over `rounds` rounds from its current state,
    /// writing its state after the last one into the other copy and its history entries
    /// into the stage.
    /// - Returns: the rounds done: fewer than asked if a channel left the quiet path in
    ///   the next one (whose changes are not kept).
    @inline(__always)
    func advance(vector v: Int, rounds: Int, from p: UnsafePointer<Sample>) -> Int {
        typealias V = RoundKernel.V
        typealias U = RoundKernel.U
        let rk = kernel
        let w = RoundKernel.width
        let n = laneCount
        let segments = rk.segmentCount
        let c = rk.constants[v]
        let active = c.active .> 0, isVOC = c.isVOC .> 0, isMoxResistance = c.isMoxResistance .> 0
        let noSmoothing = c.noSmoothing .> 0
        let on2v = V(repeating: on2), off2v = V(repeating: off2)
        let staleV = U(repeating: staleUs)
        var k = rk.coefficients[v]
        let start = rk.states[rk.current * rk.vectors + v]
        var level = start.level, trend = start.trend, smooth = start.smooth, recoveredOut = start.recovered
        var previous1 = start.previous1, previous2 = start.previous2
        var noiseVariance = start.noiseVariance, smoothNoiseVariance = start.smoothNoiseVariance
        var rearmLevel = start.rearmLevel, physical = start.physical, lastTime = start.lastTime
        // While every channel of the vector last saw the same time (a round whose samples
        // share one time, as most do) and has its coefficients for the same interval, the
        // times are checked once for all, as scalars: cheaper than comparing vectors of
        // 64-bit integers (which SSE2 has no instructions for).
        var uniform = true
        var last: UInt64? = nil
        for e in 0..<w where active[e] {
            if let l = last { uniform = uniform && lastTime[e] == l } else { last = lastTime[e] }
        }
        var uniformTime = last ?? 0
        var uniformDt = UInt64.max  // unknown: each channel's own `cachedDtUs` is checked
        var r = 0
        while r < rounds {
            let q = p + r * n
            var raw = V()
            var t = U()
            let inlet: U
            if rk.sharedTime[r] {
                let time = q[0].time
                t = U(repeating: time)
                for e in 0..<w { raw[e] = q[rk.gasChannel[v * w + e]].value }
                inlet = time >= c.maxDelayUs ? t &- c.delayUs : (t &- c.delayUs).replacing(with: 0, where: t .< c.delayUs)
            } else {
                for e in 0..<w {
                    let s = q[rk.gasChannel[v * w + e]]
                    raw[e] = s.value
                    t[e] = s.time
                }
                inlet = (t &- c.delayUs).replacing(with: 0, where: t .< c.delayUs)
            }
            let finite = (raw - raw) .== 0  // NaN and ±∞ give NaN
            let inRange = finite .& (raw .>= c.validMin) .& (raw .<= c.validMax) .& (.!isMoxResistance .| (raw .> 0))
            if uniform && rk.sharedTime[r] {
                let time = t[0]
                if time <= uniformTime || time &- uniformTime > staleUs || any(active .& .!inRange) { break }
                let dt = time &- uniformTime
                if dt != uniformDt {
                    for e in 0..<w where active[e] && dt != k.cachedDtUs[e] {
                        let lane = lanes + rk.gasChannel[v * w + e]
                        lane.pointee.prepare(dtUs: dt)
                        rk.copyCoefficients(from: lane, vector: v, element: e)
                    }
                    k = rk.coefficients[v]
                    uniformDt = dt
                }
            } else {
                let dtUs = t &- lastTime
                let badTime = (t .<= lastTime) .| (dtUs .> staleV)
                let bad = badTime .| .!inRange
                if any(active .& (bad .| (dtUs .!= k.cachedDtUs))) {
                    if any(active .& bad) { break }
                    for e in 0..<w where active[e] && dtUs[e] != k.cachedDtUs[e] {
                        let lane = lanes + rk.gasChannel[v * w + e]
                        lane.pointee.prepare(dtUs: dtUs[e])
                        rk.copyCoefficients(from: lane, vector: v, element: e)
                    }
                    k = rk.coefficients[v]
                }
                uniformDt = .max
            }

            // Stage 1: physical units (Lane.convert).
            var y = (raw - c.offset) * c.gain
            y.replace(with: (c.offset - raw) * c.gain, where: isVOC)
            for g in rk.logSlots where g / w == v {
                y[g % w] = lanes[rk.gasChannel[g]].convert(raw[g % w])
            }
            // Stage 2: compensation (Lane.compensate), with the air each slot's place in
            // the round saw.
            var compensated = y
            for segment in 0..<segments where rk.segmentUsed[v * segments + segment] {
                var z = y
                let temperature = rk.segmentTemperature[r * segments + segment]
                let humidity = rk.segmentHumidity[r * segments + segment]
                if temperature.isFinite {
                    z = z - c.temperatureCoefficient * (V(repeating: temperature) - c.referenceTemperature)
                }
                if humidity.isFinite {
                    z = z - c.humidityCoefficient * (V(repeating: humidity) - c.referenceAbsoluteHumidity)
                }
                compensated.replace(with: z, where: rk.segmentMask[v * segments + segment])
            }

            // Median of three (Lane.despike), with min and max as the standard library's
            // (`min(a, b)` is `b < a ? b : a`, `max(a, b)` is `b >= a ? b : a`).
            let e = compensated - level
            let a = previous2, b = previous1
            let low = a.replacing(with: b, where: b .< a)
            let high = a.replacing(with: b, where: b .>= a)
            let mid = high.replacing(with: e, where: e .< high)
            let median = low.replacing(with: mid, where: mid .>= low)

            // Denoising and recovery (Lane.smoothAndRecover).
            let delta = median - smooth
            let slope = k.smoothPerSecond * delta
            let smoothed = smooth + slope * k.dt
            let tau = c.decayTau.replacing(with: c.riseTau, where: slope .> 0)
            let recovered = smoothed + tau * slope
            let s = smoothed.replacing(with: median, where: noSmoothing)
            let x = recovered.replacing(with: median, where: noSmoothing)

            // Noise and thresholds: anything near a hit leaves the quiet path.
            let x2 = x * x
            let s2 = s * s
            let excursion = (x2 .> on2v * noiseVariance) .| (s2 .> on2v * smoothNoiseVariance)
            if any(active .& excursion) { break }
            let recoveredUp = (x .> 0) .& (x2 .> off2v * noiseVariance)
            let stillUp = recoveredUp .| ((s .> 0) .& (s2 .> off2v * smoothNoiseVariance))

            rearmLevel.replace(with: 0, where: .!stillUp)
            // Lane.learnNoise with the gate open (no excursion), when not still up.
            let floor2 = c.noiseFloor2
            let nx = noiseVariance + k.alphaNoise * (x2 - noiseVariance)
            let ns = smoothNoiseVariance + k.alphaNoise * (s2 - smoothNoiseVariance)
            noiseVariance.replace(with: floor2.replacing(with: nx, where: nx .>= floor2), where: .!stillUp)
            smoothNoiseVariance.replace(with: floor2.replacing(with: ns, where: ns .>= floor2), where: .!stillUp)

            rk.staged[(rk.stagedRounds + r) * rk.vectors + v] = RoundKernel.Pending(inlet: inlet, excess: s, recovered: x)

            // Baseline (Lane.updateBaseline, learning, warm, no catch-up).
            let drift = trend * k.dt
            let error = s - drift
            let step = drift + k.alphaUp * error
            level = level + step
            smooth = s - step
            previous1 = e - step
            previous2 = b - step
            trend = trend + k.betaUp * error * k.inverseDt
            recoveredOut = x
            physical = compensated
            lastTime = t
            uniform = rk.sharedTime[r]
            uniformTime = t[0]
            r += 1
        }
        rk.states[(1 - rk.current) * rk.vectors + v] = RoundKernel.State(
            level: level, trend: trend, smooth: smooth, recovered: recoveredOut, previous1: previous1,
            previous2: previous2, noiseVariance: noiseVariance, smoothNoiseVariance: smoothNoiseVariance,
            rearmLevel: rearmLevel, physical: physical, lastTime: lastTime)
        return r
    }
}
