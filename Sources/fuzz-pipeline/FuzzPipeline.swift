// libFuzzer entry point for the detection pipeline: built only by scripts/fuzz
// (`swift build --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address --product fuzz-pipeline`).
// The input's bytes steer a stream of whole time steps of a nine-channel payload after a
// clean warm-up: each byte is one sample, a quiet reading, a plume reading, or something
// hostile (NaN, infinities, huge values, a time jump, the end of time, an unknown or
// swapped channel, a dropped or repeated sample). The stream is fed sample by sample to
// one pipeline and in chunks (whose sizes the input also picks) to another, which takes
// the batched path wherever whole quiet steps allow: neither may crash, and the two must
// agree on every channel's state after every chunk and on every detection.
import SnuffelCore

private func channel(_ id: String, _ kind: ChannelKind, gas: String? = nil, offset: Double = 0, gain: Double = 1,
                     min: Double, max: Double, noise: Double, delay: Double = 1) -> ChannelSpec {
    ChannelSpec(id: id, kind: kind, gas: gas, rateHz: 10, delaySeconds: delay, riseTauSeconds: 2, decayTauSeconds: 6,
                validMin: min, validMax: max,
                calibration: Calibration(offset: offset, gain: gain, humidityCoefficient: 0.01, noiseFloor: noise))
}

private let channels: [ChannelSpec] = [
    channel("voc", .srawVOC, offset: 30000, gain: 0.001, min: 0, max: 65535, noise: 0.002),
    channel("nox", .srawNOx, offset: 15000, gain: 0.001, min: 0, max: 65535, noise: 0.002),
    channel("gas_r", .moxResistance, offset: 100_000, min: 1, max: 5e7, noise: 0.003),
    channel("pid", .pid, min: -500, max: 2e6, noise: 2),
    channel("temp", .temperature, min: -40, max: 125, noise: 0.01, delay: 0),
    channel("rh", .humidity, min: 0, max: 100, noise: 0.01, delay: 0),
    channel("nh3", .electrochemical, gas: "nh3", min: -5, max: 100, noise: 0.05),
    channel("co", .electrochemical, gas: "co", min: -10, max: 1000, noise: 0.1),
    channel("pid_2", .pid, min: -500, max: 2e6, noise: 2, delay: 1.3),
]

private let library: SignatureLibrary = {
    func r(_ v: Double) -> Response { Response(perPPM: v, source: "fuzz fixture") }
    return SignatureLibrary(
        compounds: [
            Compound(id: "a", name: "ketone", responses: ["pid": r(900), "sraw_voc": r(0.8), "mox_resistance": r(0.6)]),
            Compound(id: "n", name: "ammonia", responses: ["ec_nh3": r(1), "sraw_voc": r(0.05), "pid": r(100)]),
            Compound(id: "c", name: "carbon monoxide", responses: ["ec_co": r(1), "mox_resistance": r(0.02)]),
        ],
        classes: [
            SignatureClass(id: "lab", name: "lab", isConfounder: false, components: [("a", 0.7), ("n", 0.3)]),
            SignatureClass(id: "exhaust", name: "exhaust", isConfounder: true, components: [("c", 1)]),
        ])
}()

private let configuration: PipelineConfiguration = {
    var settings = DetectionSettings()
    settings.warmupSeconds = 5
    return PipelineConfiguration(channels: channels, detection: settings, library: library)
}()

/// A quiet reading of channel `c` at step `k`, with a little deterministic noise.
private func quiet(_ c: Int, _ k: Int) -> Double {
    let wiggle = Double((k &* 7919 &+ c &* 104_729) % 1000) / 1000 - 0.5
    switch c {
    case 0: return 30000 + 2 * wiggle
    case 1: return 15000 + 2 * wiggle
    case 2: return 100_000 * (1 + 0.003 * wiggle)
    case 3, 8: return 2 * wiggle
    case 4: return 20 + 0.05 * wiggle
    case 5: return 50 + 0.3 * wiggle
    case 6: return 0.05 * wiggle
    default: return 0.1 * wiggle
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let n = channels.count
    var samples: [Sample] = []
    samples.reserveCapacity((80 + size / n + 2) * n + size)
    var time: UInt64 = 1_000_000_000
    // Eight seconds of clean steps: past warm-up, so that the batched path can start.
    for k in 0..<80 {
        for c in 0..<n { samples.append(Sample(channel: UInt16(c), time: time, value: quiet(c, k))) }
        time += 100_000
    }
    var k = 80
    var i = 0
    while i < size {
        for c in 0..<n where i < size {
            let b = bytes[i]
            i += 1
            var s = Sample(channel: UInt16(c), time: time, value: quiet(c, k))
            switch b {
            case 0..<192: break
            case 192..<216: s.value += Double(b - 191) * (c == 2 ? -4000 : 40)  // a plume
            case 216: s.value = .nan
            case 217: s.value = .infinity
            case 218: s.value = -.greatestFiniteMagnitude
            case 219: s.value = .leastNonzeroMagnitude
            case 220: time &+= 20_000_000; s.time = time  // past stale_after_s
            case 221: s.time = .max
            case 222: s.time = 0
            case 223: s.channel = UInt16(n + Int(b % 3))  // no such channel
            case 224: s.channel = UInt16((c + 1) % n)  // out of channel order
            case 225: continue  // dropped
            case 226: samples.append(s)  // repeated
            case 227: s.time &+= 1  // jitter
            default: s.value *= Double(b - 226)
            }
            samples.append(s)
        }
        time &+= 100_000
        k += 1
    }

    guard let single = try? Pipeline(configuration: configuration),
          let batched = try? Pipeline(configuration: configuration) else {
        preconditionFailure("the fuzz payload is invalid")
    }
    var offset = 0
    var pick = 0
    while offset < samples.count {
        // Chunk sizes from the input: from one sample to many steps.
        let step = size > 0 ? Int(bytes[pick % size]) : 255
        pick += 7
        let end = min(samples.count, offset + 1 + step * 6)
        for s in samples[offset..<end] { single.process(s) }
        samples[offset..<end].withUnsafeBufferPointer { batched.process($0) }
        offset = end
        for c in 0..<n {
            let a = single.snapshot(channel: c), b = batched.snapshot(channel: c)
            // Compared as text: NaN is not == to itself but prints the same.
            precondition(a == b || String(describing: a) == String(describing: b),
                         "channel \(c) differs after sample \(offset): \(String(describing: a)) vs \(String(describing: b))")
        }
    }
    single.finish()
    batched.finish()
    precondition(single.health == batched.health, "health differs: \(single.health) vs \(batched.health)")
    let one = single.drainDetections(), other = batched.drainDetections()
    precondition(one == other || String(describing: one) == String(describing: other), "the detections differ")
    return 0
}
