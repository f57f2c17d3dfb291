import Testing
import RealModule
import SnuffelCore
import SnuffelSim
import SnuffelTestSupport

/// Feeds `value(t)` for one channel at `rate` Hz for `seconds`, with the others silent.
func feed(_ p: Pipeline, channel: Int, from start: Double = 0, seconds: Double, rate: Double,
          t0: UInt64 = 1_000_000_000, value: (Double) -> Double) {
    let n = Int((seconds * rate).rounded())
    let first = Int((start * rate).rounded())
    for i in first..<(first + n) {
        let t = Double(i) / rate
        p.process(Sample(channel: UInt16(channel), time: t0 + UInt64((t * 1e6).rounded()), value: value(t)))
    }
}

func singleChannel(_ spec: ChannelSpec, settings: DetectionSettings = DetectionSettings()) throws -> Pipeline {
    var s = settings
    s.minChannels = 1
    return try Pipeline(configuration: PipelineConfiguration(channels: [spec], detection: s, library: Fixtures.miniLibrary()))
}

@Suite("Stage 1: conversion to physical units")
struct ConversionTests {
    @Test("each kind converts by its documented formula", arguments: [
        (ChannelKind.srawVOC, 29_000.0, Calibration(offset: 30_000, gain: 0.001), 1.0),
        (ChannelKind.srawNOx, 15_500.0, Calibration(offset: 15_000, gain: 0.002), 1.0),
        (ChannelKind.moxResistance, 50_000.0, Calibration(offset: 100_000), Double.log(2.0)),
        (ChannelKind.pid, 120.0, Calibration(offset: 20, gain: 0.5), 50.0),
        (ChannelKind.electrochemical, 3.0, Calibration(offset: 1, gain: 2), 4.0),
        (ChannelKind.temperature, 21.5, Calibration(offset: 0.5, gain: 1), 21.0),
        (ChannelKind.humidity, 40.0, Calibration(offset: 0, gain: 1), 40.0),
    ])
    func conversion(kind: ChannelKind, raw: Double, calibration: Calibration, expected: Double) throws {
        let spec = ChannelSpec(id: "c", kind: kind, gas: kind == .electrochemical ? "co" : nil, calibration: calibration)
        let p = try singleChannel(spec)
        p.process(Sample(channel: 0, time: 1, value: raw))
        let physical = try #require(p.snapshot(channel: 0)).physical
        #expect(physical.isApproximatelyEqual(to: expected, relativeTolerance: 1e-12))
    }
}

@Suite("Stage 2: temperature and humidity compensation")
struct CompensationTests {
    @Test("a temperature step with a known coefficient leaves the compensated signal flat")
    func temperatureStep() throws {
        let cal = Calibration(offset: 0, gain: 1, temperatureCoefficient: 0.3, noiseFloor: 0.01)
        let channels = [
            ChannelSpec(id: "pid", kind: .pid, rateHz: 1, calibration: cal),
            ChannelSpec(id: "temp", kind: .temperature, rateHz: 1),
        ]
        var settings = DetectionSettings()
        settings.minChannels = 1
        let p = try Pipeline(configuration: PipelineConfiguration(channels: channels, detection: settings, library: Fixtures.miniLibrary()))
        // Drift of the raw PID reading caused by temperature alone: 0.3 per °C.
        for i in 0..<600 {
            let t = UInt64(i) * 1_000_000
            let temperature = i < 300 ? 25.0 : 35.0
            p.process(Sample(channel: 1, time: t, value: temperature))
            p.process(Sample(channel: 0, time: t + 1, value: 10 + 0.3 * (temperature - 25)))
        }
        let snap = try #require(p.snapshot(channel: 0))
        #expect(snap.physical.isApproximatelyEqual(to: 10, absoluteTolerance: 1e-9))
        #expect(p.drainDetections().isEmpty)
    }

    @Test("humidity compensation uses the Magnus absolute humidity, for noisy and for jumping temperatures")
    func humidityCompensation() throws {
        // 1 unit per g/m³ from 10 g/m³: the compensated signal is `raw - (AH - 10)`.
        let cal = Calibration(offset: 0, gain: 1, humidityCoefficient: 1, referenceAbsoluteHumidity: 10, noiseFloor: 0.01)
        let channels = [
            ChannelSpec(id: "pid", kind: .pid, rateHz: 1, calibration: cal),
            ChannelSpec(id: "temp", kind: .temperature, rateHz: 1),
            ChannelSpec(id: "rh", kind: .humidity, rateHz: 1),
        ]
        let p = try Pipeline(configuration: PipelineConfiguration(channels: channels, library: Fixtures.miniLibrary()))
        var rng = SeededGenerator(seed: 5)
        var worst = 0.0
        for i in 0..<2000 {
            let t = UInt64(i) * 1_000_000
            // Sensor noise of 0.02 °C around a level that jumps by up to 3 °C now and then.
            let level = 15 + 3 * Double((i / 250) % 4)
            let temperature = level + 0.02 * rng.gaussian()
            let humidity = 40 + 20 * rng.uniform()
            p.process(Sample(channel: 1, time: t, value: temperature))
            p.process(Sample(channel: 2, time: t, value: humidity))
            p.process(Sample(channel: 0, time: t + 1, value: 5))
            let expected = 5 - (Pipeline.absoluteHumidity(temperature: temperature, relativeHumidity: humidity) - 10)
            let physical = try #require(p.snapshot(channel: 0)).physical
            worst = max(worst, abs(physical - expected))
        }
        #expect(worst < 1e-11, "largest difference \(worst)")
    }

    @Test("absolute humidity follows the Magnus formula (20 °C, 50 % → 8.63 g/m³)")
    func absoluteHumidity() {
        let ah = Pipeline.absoluteHumidity(temperature: 20, relativeHumidity: 50)
        #expect(ah.isApproximatelyEqual(to: 8.63, absoluteTolerance: 0.02))
        #expect(Pipeline.absoluteHumidity(temperature: 20, relativeHumidity: 0) == 0)
    }
}

@Suite("Stage 3: baseline")
struct BaselineTests {
    let spec = ChannelSpec(id: "pid", kind: .pid, rateHz: 2, calibration: Calibration(noiseFloor: 0.05))

    @Test("a slow ramp of drift is tracked without lag and raises no hit")
    func rampDrift() throws {
        let p = try singleChannel(spec)
        var rng = SeededGenerator(seed: 7)
        // 0.02 units/s for 20 minutes: 24 units of drift, 480 noise σ.
        feed(p, channel: 0, seconds: 1200, rate: 2) { t in 100 + 0.02 * t + 0.05 * rng.gaussian() }
        p.finish()
        let snap = try #require(p.snapshot(channel: 0))
        #expect(abs(snap.baseline - (100 + 0.02 * 1199.5)) < 0.1, "baseline \(snap.baseline)")
        #expect(p.drainDetections().isEmpty)
    }

    @Test("a plume does not teach the baseline, and a step down of drift is absorbed after the hold")
    func plumeNotLearnt() throws {
        let p = try singleChannel(spec)
        var rng = SeededGenerator(seed: 3)
        feed(p, channel: 0, seconds: 100, rate: 2) { _ in 50 + 0.05 * rng.gaussian() }
        // A 30 s plume of +5 units.
        feed(p, channel: 0, from: 100, seconds: 30, rate: 2) { _ in 55 + 0.05 * rng.gaussian() }
        let during = try #require(p.snapshot(channel: 0))
        #expect(abs(during.baseline - 50) < 0.05, "baseline learnt the plume: \(during.baseline)")
        feed(p, channel: 0, from: 130, seconds: 60, rate: 2) { _ in 50 + 0.05 * rng.gaussian() }
        // A step down of drift is held for baseline_max_freeze_s (60 s: some pixels answer
        // a gas by falling), caught up at baseline_down_tau_s (20 s) to within hit_on_sigma,
        // and the rest is learnt at baseline_tau_s (120 s).
        feed(p, channel: 0, from: 190, seconds: 300, rate: 2) { _ in 48 + 0.05 * rng.gaussian() }
        let after = try #require(p.snapshot(channel: 0))
        #expect(abs(after.baseline - 48) < 0.1, "baseline \(after.baseline)")
        p.finish()
        let detections = p.drainDetections()
        #expect(detections.count == 1)
    }

    @Test("a permanent step up is absorbed after baseline_max_freeze_s, ending the event")
    func stepAbsorbed() throws {
        var settings = DetectionSettings()
        settings.baselineMaxFreezeSeconds = 30
        settings.maxEventSeconds = 600
        let p = try singleChannel(spec, settings: settings)
        var rng = SeededGenerator(seed: 5)
        feed(p, channel: 0, seconds: 100, rate: 2) { t in 50 + (t >= 60 ? 3 : 0) + 0.05 * rng.gaussian() }
        feed(p, channel: 0, from: 100, seconds: 900, rate: 2) { _ in 53 + 0.05 * rng.gaussian() }
        #expect(p.pendingDetections == 1)
        #expect(!p.isEventOpen)
        let snap = try #require(p.snapshot(channel: 0))
        #expect(abs(snap.baseline - 53) < 0.05)
    }
}

@Suite("Stage 4: denoising and fast-response recovery")
struct RecoveryTests {
    @Test("a first-order sensor with known τ is recovered to τ / recovery_speedup")
    func firstOrderRecovery() throws {
        let tau = 20.0
        let spec = ChannelSpec(id: "nh3", kind: .electrochemical, gas: "nh3", rateHz: 10,
                               riseTauSeconds: tau, decayTauSeconds: tau, calibration: Calibration(noiseFloor: 0.01))
        var settings = DetectionSettings()
        settings.recoverySpeedup = 4
        settings.smoothingTauSeconds = 0.1
        let p = try singleChannel(spec, settings: settings)
        feed(p, channel: 0, seconds: 60, rate: 10) { _ in 0 }
        // Step of 10 ppm at the inlet at t = 60, seen through a first-order cell.
        var t63Raw: Double?
        var t63Recovered: Double?
        for i in 0..<600 {
            let t = 60 + Double(i) / 10
            let response = 10 * (1 - Double.exp(-(t - 60) / tau))
            p.process(Sample(channel: 0, time: 1_000_000_000 + UInt64((t * 1e6).rounded()), value: response))
            let snap = try #require(p.snapshot(channel: 0))
            if t63Raw == nil && response >= 6.32 { t63Raw = t - 60 }
            if t63Recovered == nil && snap.recovered >= 6.32 { t63Recovered = t - 60 }
        }
        let raw = try #require(t63Raw)
        let recovered = try #require(t63Recovered)
        #expect(raw.isApproximatelyEqual(to: tau, absoluteTolerance: 0.2))
        // Recovery to τ/4 = 5 s (the 0.1 s step resolution and the sampled derivative).
        #expect(recovered.isApproximatelyEqual(to: tau / 4, absoluteTolerance: 0.5), "t63 \(recovered)")
        // Three τ after the step the cell shows 95 %; the recovered signal shows the 10 ppm.
        let final = try #require(p.snapshot(channel: 0))
        #expect(final.excess < 9.6)
        #expect(final.recovered.isApproximatelyEqual(to: 10, absoluteTolerance: 0.2))
    }

    @Test("decay uses its own time constant")
    func separateDecay() throws {
        // A cell that clears (τ = 4 s) faster than it responds (τ = 8 s): inverting the
        // decay with the rise constant would overshoot far below zero.
        let spec = ChannelSpec(id: "cell", kind: .pid, rateHz: 10, riseTauSeconds: 8, decayTauSeconds: 4,
                               calibration: Calibration(noiseFloor: 0.01))
        var settings = DetectionSettings()
        settings.smoothingTauSeconds = 0.1
        let p = try singleChannel(spec, settings: settings)
        feed(p, channel: 0, seconds: 60, rate: 10) { _ in 0 }
        feed(p, channel: 0, from: 60, seconds: 40, rate: 10) { _ in 10 }
        var t37: Double?
        var lowest = Double.infinity
        for i in 0..<200 {
            let t = 100 + Double(i) / 10
            let response = 10 * Double.exp(-(t - 100) / 4)
            p.process(Sample(channel: 0, time: 1_000_000_000 + UInt64((t * 1e6).rounded()), value: response))
            let snap = try #require(p.snapshot(channel: 0))
            if t37 == nil, snap.recovered <= 3.68 { t37 = t - 100 }
            lowest = min(lowest, snap.recovered)
        }
        // Recovered to τ_smooth = 8 / 4 = 2 s.
        let decay = try #require(t37)
        #expect(decay.isApproximatelyEqual(to: 2, absoluteTolerance: 0.4), "recovered decay t37 \(decay)")
        #expect(lowest > -1, "overshoot \(lowest)")
    }

    @Test("the low-pass lowers white noise")
    func denoising() throws {
        let spec = ChannelSpec(id: "pid", kind: .pid, rateHz: 10, calibration: Calibration(noiseFloor: 1e-6))
        var settings = DetectionSettings()
        settings.smoothingTauSeconds = 1
        let p = try singleChannel(spec, settings: settings)
        var rng = SeededGenerator(seed: 11)
        var sum2 = 0.0
        var n = 0.0
        feed(p, channel: 0, seconds: 30, rate: 10) { _ in rng.gaussian() }
        for i in 300..<3300 {
            p.process(Sample(channel: 0, time: 1_000_000_000 + UInt64(i) * 100_000, value: rng.gaussian()))
            let s = try #require(p.snapshot(channel: 0)).excess
            sum2 += s * s
            n += 1
        }
        let std = (sum2 / n).squareRoot()
        // A one-pole low-pass with τ = 1 s at 10 Hz passes √(α/(2−α)) ≈ 0.22 of white noise.
        #expect(std < 0.3, "smoothed std \(std)")
        #expect(std > 0.15)
    }
}

@Suite("Stage 5–6: noise normalisation and hit detection")
struct HitTests {
    let spec = ChannelSpec(id: "pid", kind: .pid, rateHz: 10, calibration: Calibration(noiseFloor: 0.01))

    @Test("a step of 10 σ is detected with its onset at the step")
    func stepDetected() throws {
        let p = try singleChannel(spec)
        var rng = SeededGenerator(seed: 1)
        feed(p, channel: 0, seconds: 100, rate: 10) { t in (t >= 80 && t < 90 ? 10 : 0) + rng.gaussian() }
        p.finish()
        let d = try #require(p.drainDetections().first)
        let onset = Double(d.onset - 1_000_000_000) / 1e6
        let end = Double(d.end - 1_000_000_000) / 1e6
        #expect(onset.isApproximatelyEqual(to: 80, absoluteTolerance: 0.5), "onset \(onset)")
        // The end lags by the low-pass falling to hit_off_sigma: τ_smooth · ln(10 σ / 2 σ) ≈ 0.8 s
        // plus the spike filter and sampling.
        #expect(end.isApproximatelyEqual(to: 90.8, absoluteTolerance: 1.2), "end \(end)")
        #expect(d.channels[0].hit)
        #expect(d.channels[0].peakSigma > 8)
    }

    @Test("single-sample spikes and a bump below the detection limit make no detection")
    func spikesRejected() throws {
        let p = try singleChannel(spec)
        var rng = SeededGenerator(seed: 2)
        feed(p, channel: 0, seconds: 300, rate: 10) { t in
            let spike = (Int(t * 10) % 400 == 399) ? 30.0 : 0
            // 0.2 σ for 10 s: about 1 σ after smoothing.
            let bump = (t >= 150 && t < 160) ? 0.2 : 0
            return spike + bump + rng.gaussian()
        }
        p.finish()
        #expect(p.drainDetections().isEmpty)
    }

    @Test("no hit is declared during warm-up")
    func warmup() throws {
        let p = try singleChannel(spec)
        feed(p, channel: 0, seconds: 20, rate: 10) { t in t > 5 ? 100 : 0 }
        p.finish()
        #expect(p.drainDetections().isEmpty)
    }
}
