/// The batched path: whole time steps ("rounds", one sample of every channel, in channel
/// order) with the gas channels side by side in SIMD vectors.
///
/// A round goes this way only when every gas channel is on the quiet path: warmed up, no
/// hit, no hold of the baseline, no open event, no gap, every value valid, and nothing in
/// the round crossing a hit threshold. The round is first computed into a second copy of
/// the channels' state; if any channel leaves the quiet path the copy is dropped and the
/// round goes through the per-sample path, sample by sample, as if the batched path did
/// not exist. On the quiet path every operation is the per-sample path's, in the same
/// order, on the same values (the selects pick what its branches would), so the two give
/// the same results bit for bit: `Pipeline.process` gives the same detections for any
/// chunking, and the tests compare every channel's state after every chunk.
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
        var isVOC = M(repeating: false), isMoxResistance = M(repeating: false)
        var noSmoothing = M(repeating: false), active = M(repeating: false)
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

    /// The history entries of a round, written once the round is kept.
    struct Pending {
        var inlet = U(), excess = V(), recovered = V()
    }

    let roundSize: Int
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
    let pending: UnsafeMutablePointer<Pending>
    let segmentTemperature: UnsafeMutablePointer<Double>
    let segmentHumidity: UnsafeMutablePointer<Double>
    let environmentValue: UnsafeMutablePointer<Double>

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
        roundSize = count
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
        pending = .allocate(capacity: vectors)
        pending.initialize(repeating: Pending(), count: vectors)
        segmentTemperature = .allocate(capacity: segmentCount)
        segmentTemperature.initialize(repeating: .nan, count: segmentCount)
        segmentHumidity = .allocate(capacity: segmentCount)
        segmentHumidity.initialize(repeating: .nan, count: segmentCount)
        environmentValue = .allocate(capacity: max(1, environment.count))
        environmentValue.initialize(repeating: .nan, count: max(1, environment.count))
        var logs: [Int] = []
        var indexed: [Int] = []
        for (g, channel) in gas.enumerated() {
            gasChannel[g] = channel
            let lane = lanes[channel]
            let v = g / w, e = g % w
            segmentMask[v * segmentCount + segmentOf[g]][e] = true
            segmentUsed[v * segmentCount + segmentOf[g]] = true
            if lane.kind == .moxResistance { logs.append(g) }
            if lane.gasIndex != nil { indexed.append(g) }
            constants[v].offset[e] = lane.offset
            constants[v].gain[e] = lane.gain
            constants[v].temperatureCoefficient[e] = lane.temperatureCoefficient
            constants[v].humidityCoefficient[e] = lane.humidityCoefficient
            constants[v].referenceTemperature[e] = lane.referenceTemperature
            constants[v].referenceAbsoluteHumidity[e] = lane.referenceAbsoluteHumidity
            constants[v].validMin[e] = lane.validMin
            constants[v].validMax[e] = lane.validMax
            constants[v].riseTau[e] = lane.riseTau
            constants[v].decayTau[e] = lane.decayTau
            constants[v].noiseFloor2[e] = lane.noiseFloor2
            constants[v].delayUs[e] = lane.delayUs
            constants[v].isVOC[e] = lane.kind == .srawVOC
            constants[v].isMoxResistance[e] = lane.kind == .moxResistance
            constants[v].noSmoothing[e] = !(lane.smoothTau > 0)
            constants[v].active[e] = true
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
        pending.deallocate()
        segmentTemperature.deallocate()
        segmentHumidity.deallocate()
        environmentValue.deallocate()
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
            s.pointee.level[e] = l.pointee.level
            s.pointee.trend[e] = l.pointee.trend
            s.pointee.smooth[e] = l.pointee.smooth
            s.pointee.recovered[e] = l.pointee.recovered
            s.pointee.previous1[e] = l.pointee.previous1
            s.pointee.previous2[e] = l.pointee.previous2
            s.pointee.noiseVariance[e] = l.pointee.noiseVariance
            s.pointee.smoothNoiseVariance[e] = l.pointee.smoothNoiseVariance
            s.pointee.rearmLevel[e] = l.pointee.rearmLevel
            s.pointee.physical[e] = l.pointee.physical
            s.pointee.lastTime[e] = l.pointee.lastTime
            copyCoefficients(from: l, vector: v, element: e)
        }
        loaded = true
        return true
    }

    /// Copies the gas channels' state back into the lanes.
    mutating func writeBack(_ lanes: UnsafeMutablePointer<Lane>) {
        guard loaded else { return }
        loaded = false
        let w = RoundKernel.width
        let base = current * vectors
        for g in 0..<gasCount {
            let l = lanes + gasChannel[g]
            let s = states[base + g / w]
            let e = g % w
            l.pointee.level = s.level[e]
            l.pointee.trend = s.trend[e]
            l.pointee.smooth = s.smooth[e]
            l.pointee.recovered = s.recovered[e]
            l.pointee.previous1 = s.previous1[e]
            l.pointee.previous2 = s.previous2[e]
            l.pointee.noiseVariance = s.noiseVariance[e]
            l.pointee.smoothNoiseVariance = s.smoothNoiseVariance[e]
            l.pointee.rearmLevel = s.rearmLevel[e]
            l.pointee.physical = s.physical[e]
            l.pointee.lastTime = s.lastTime[e]
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

extension Engine {
    /// Processes a buffer of samples in order, whole rounds on the batched path where it
    /// applies; the same results as one ``process(_:)`` per sample.
    mutating func process(batch: UnsafeBufferPointer<Sample>) {
        guard let base = batch.baseAddress, kernel.gasCount > 0 else {
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
            if wait == 0 && count - i >= n && base[i].channel == 0 {
                if !kernel.loaded && !kernel.load(lanes) {
                    wait = 8 * n
                } else if processRound(base + i) {
                    i += n
                    continue
                } else {
                    kernel.writeBack(lanes)
                    wait = 8 * n
                }
            }
            if kernel.loaded { kernel.writeBack(lanes) }
            process(base[i])
            i += 1
            if wait > 0 { wait -= 1 }
        }
        kernel.writeBack(lanes)
    }

    /// One round on the batched path, if every gas channel stays on the quiet path.
    /// - Returns: false, having changed nothing, if not.
    @inline(__always)
    mutating func processRound(_ p: UnsafePointer<Sample>) -> Bool {
        guard !eventOpen else { return false }
        let n = laneCount
        var newest = latestTime
        for k in 0..<n {
            let s = p[k]
            guard Int(s.channel) == k, s.value.isFinite else { return false }
            if s.time > newest { newest = s.time }
        }
        let rk = kernel
        typealias V = RoundKernel.V
        typealias U = RoundKernel.U
        let w = RoundKernel.width

        // Temperature and humidity, in round order, into a copy of the environment.
        var air = environment
        rk.segmentTemperature[0] = air.temperature
        rk.segmentHumidity[0] = air.absoluteHumidity
        for (j, channel) in rk.environmentChannels.enumerated() {
            let lane = lanes + channel
            let s = p[channel]
            if lane.pointee.hasSample && s.time <= lane.pointee.lastTime { return false }
            guard lane.pointee.inRange(s.value) else { return false }
            let y = lane.pointee.convert(s.value)
            if lane.pointee.kind == .temperature { air.temperature = y } else { air.relativeHumidity = y }
            _ = air.update(time: s.time)
            rk.environmentValue[j] = y
            rk.segmentTemperature[j + 1] = air.temperature
            rk.segmentHumidity[j + 1] = air.absoluteHumidity
        }

        // The gas channels, into the other copy of the state.
        let from = rk.states + rk.current * rk.vectors
        let to = rk.states + (1 - rk.current) * rk.vectors
        let on2v = V(repeating: on2), off2v = V(repeating: off2)
        let staleV = U(repeating: staleUs)
        for v in 0..<rk.vectors {
            let c = rk.constants + v
            var raw = V()
            var t = U()
            for e in 0..<w {
                let s = p[rk.gasChannel[v * w + e]]
                raw[e] = s.value
                t[e] = s.time
            }
            let old = from[v]
            let dtUs = t &- old.lastTime
            let active = c.pointee.active
            let badTime = (t .<= old.lastTime) .| (dtUs .> staleV)
            let inRange = (raw .>= c.pointee.validMin) .& (raw .<= c.pointee.validMax)
                .& (.!c.pointee.isMoxResistance .| (raw .> 0))
            if any(active .& (badTime .| .!inRange)) { return false }
            if any(active .& (dtUs .!= rk.coefficients[v].cachedDtUs)) {
                for e in 0..<w where active[e] && dtUs[e] != rk.coefficients[v].cachedDtUs[e] {
                    let lane = lanes + rk.gasChannel[v * w + e]
                    lane.pointee.prepare(dtUs: dtUs[e])
                    rk.copyCoefficients(from: lane, vector: v, element: e)
                }
            }
            let k = rk.coefficients[v]

            // Stage 1: physical units (Lane.convert).
            var y = (raw - c.pointee.offset) * c.pointee.gain
            y.replace(with: (c.pointee.offset - raw) * c.pointee.gain, where: c.pointee.isVOC)
            for g in rk.logSlots where g / w == v {
                y[g % w] = lanes[rk.gasChannel[g]].convert(raw[g % w])
            }
            // Stage 2: compensation (Lane.compensate), with the air each slot's place in
            // the round saw.
            var compensated = y
            for segment in 0..<rk.segmentCount where rk.segmentUsed[v * rk.segmentCount + segment] {
                var z = y
                let temperature = rk.segmentTemperature[segment]
                let humidity = rk.segmentHumidity[segment]
                if temperature.isFinite {
                    z = z - c.pointee.temperatureCoefficient * (V(repeating: temperature) - c.pointee.referenceTemperature)
                }
                if humidity.isFinite {
                    z = z - c.pointee.humidityCoefficient * (V(repeating: humidity) - c.pointee.referenceAbsoluteHumidity)
                }
                compensated.replace(with: z, where: rk.segmentMask[v * rk.segmentCount + segment])
            }

            // Median of three (Lane.despike), with min and max as the standard library's
            // (`min(a, b)` is `b < a ? b : a`, `max(a, b)` is `b >= a ? b : a`).
            let e = compensated - old.level
            let a = old.previous2, b = old.previous1
            let low = a.replacing(with: b, where: b .< a)
            let high = a.replacing(with: b, where: b .>= a)
            let mid = high.replacing(with: e, where: e .< high)
            let median = low.replacing(with: mid, where: mid .>= low)

            // Denoising and recovery (Lane.smoothAndRecover).
            let delta = median - old.smooth
            let slope = k.smoothPerSecond * delta
            let smoothed = old.smooth + slope * k.dt
            let tau = c.pointee.decayTau.replacing(with: c.pointee.riseTau, where: slope .> 0)
            let recovered = smoothed + tau * slope
            let s = smoothed.replacing(with: median, where: c.pointee.noSmoothing)
            let x = recovered.replacing(with: median, where: c.pointee.noSmoothing)

            // Noise and thresholds: anything near a hit leaves the quiet path.
            let x2 = x * x
            let s2 = s * s
            let xVariance = old.noiseVariance, sVariance = old.smoothNoiseVariance
            let excursion = (x2 .> on2v * xVariance) .| (s2 .> on2v * sVariance)
            if any(active .& excursion) { return false }
            let recoveredUp = (x .> 0) .& (x2 .> off2v * xVariance)
            let stillUp = recoveredUp .| ((s .> 0) .& (s2 .> off2v * sVariance))

            var next = RoundKernel.State()
            next.rearmLevel = old.rearmLevel.replacing(with: 0, where: .!stillUp)
            // Lane.learnNoise with the gate open (no excursion), when not still up.
            let floor2 = c.pointee.noiseFloor2
            let nx = xVariance + k.alphaNoise * (x2 - xVariance)
            let ns = sVariance + k.alphaNoise * (s2 - sVariance)
            let learntX = floor2.replacing(with: nx, where: nx .>= floor2)
            let learntS = floor2.replacing(with: ns, where: ns .>= floor2)
            next.noiseVariance = learntX.replacing(with: xVariance, where: stillUp)
            next.smoothNoiseVariance = learntS.replacing(with: sVariance, where: stillUp)

            let inlet = (t &- c.pointee.delayUs).replacing(with: 0, where: t .< c.pointee.delayUs)
            rk.pending[v] = RoundKernel.Pending(inlet: inlet, excess: s, recovered: x)

            // Baseline (Lane.updateBaseline, learning, warm, no catch-up).
            let drift = old.trend * k.dt
            let error = s - drift
            let step = drift + k.alphaUp * error
            next.level = old.level + step
            next.smooth = s - step
            next.previous1 = e - step
            next.previous2 = b - step
            next.trend = old.trend + k.betaUp * error * k.inverseDt
            next.recovered = x
            next.physical = compensated
            next.lastTime = t
            to[v] = next
        }

        // Kept: the new state becomes the current one, then what the lanes hold themselves.
        kernel.current = 1 - rk.current
        kernel.rounds += 1
        environment = air
        for (j, channel) in rk.environmentChannels.enumerated() {
            lanes[channel].touch(p[channel].time, physical: rk.environmentValue[j])
        }
        for g in 0..<rk.gasCount {
            let lane = lanes + rk.gasChannel[g]
            let entry = rk.pending[g / w]
            let e = g % w
            let i = lane.pointee.ringStart + lane.pointee.ringHead
            ringTime[i] = entry.inlet[e]
            ringExcess[i] = entry.excess[e]
            ringRecovered[i] = entry.recovered[e]
            lane.pointee.ringHead += 1
            if lane.pointee.ringHead == lane.pointee.ringCapacity { lane.pointee.ringHead = 0 }
            if lane.pointee.ringCount < lane.pointee.ringCapacity { lane.pointee.ringCount += 1 }
        }
        for g in rk.gasIndexSlots {
            let channel = rk.gasChannel[g]
            lanes[channel].gasIndexStep(time: p[channel].time, raw: p[channel].value, interval: gasIndexIntervalUs)
        }
        health.accepted += n
        latestTime = newest
        return true
    }
}
