import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelHardware
import SnuffelOnboard
import Testing

/// A small seeded generator (SplitMix64, Steele et al. 2014), so that the tests' noisy air
/// is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The supervisor driving the real drivers against simulated parts, with faults injected
/// mid-flight.
@Suite("Reading the payload's parts through faults")
struct SensorSupervisorTests {
    let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    /// The Raspberry Pi payload (every part the daemon drives) as twins in noisy air that
    /// follows the payload's channels.
    func payload() throws -> (PayloadConfiguration, VirtualPayload) {
        let config = try PayloadConfiguration.load(path: root + "/deploy/payload.pi.toml")
        let virtual = try VirtualPayload(payload: config, start: 1_000_000)
        return (config, virtual)
    }

    struct Run {
        var samples: [Sample] = []
        var events: [(time: UInt64, event: SensorSupervisor.Event)] = []

        func times(channel: UInt16) -> [UInt64] { samples.filter { $0.channel == channel }.map(\.time) }
    }

    /// Runs the supervisor for `seconds`, feeding the twins a slowly varying, noisy air,
    /// calling `at` before each poll.
    func run(
        _ config: PayloadConfiguration, _ virtual: VirtualPayload, seconds: Double, at: (UInt64) -> Void = { _ in }
    ) throws -> Run {
        let sensors = try PayloadSensors.sensors(for: config, access: virtual.access)
        let supervisor = SensorSupervisor(sensors: sensors, channels: config.pipeline.channels, start: virtual.clock.now())
        var result = Run()
        var generator = SplitMix64(seed: 42)
        let end = virtual.clock.now() + UInt64(seconds * 1e6)
        let nominal: [Double] = [30000, 20000, 80_000, 0.06, 0.41, 0.41, 0.3, 21, 48]
        while supervisor.nextDue < end {
            let t = supervisor.nextDue
            virtual.advance(to: t)
            for (i, value) in nominal.enumerated() {
                let noise = Double.random(in: -1...1, using: &generator) * (value == 0 ? 0.01 : abs(value) * 0.002)
                virtual.update(Sample(channel: UInt16(i), time: t, value: value + noise))
            }
            at(t)
            let (samples, events) = supervisor.poll(now: t) { virtual.clock.now() }
            result.samples += samples
            result.events += events.map { (t, $0) }
        }
        return result
    }

    func channel(_ config: PayloadConfiguration, _ id: String) throws -> UInt16 {
        UInt16(try #require(config.pipeline.channels.firstIndex { $0.id == id }))
    }

    @Test("every channel with a source is read at its rate through its driver, in its raw unit")
    func healthyPayload() throws {
        let (config, virtual) = try payload()
        let run = try run(config, virtual, seconds: 30)
        #expect(run.events.isEmpty, "\(run.events)")
        for (index, spec) in config.pipeline.channels.enumerated() {
            let count = run.times(channel: UInt16(index)).count
            // SGP41's NOx is not given during the 10 s of conditioning.
            let expected = spec.kind == .srawNOx ? 20 * spec.rateHz : 30 * spec.rateHz
            #expect(Double(count) >= expected * 0.85 && Double(count) <= expected * 1.1, "\(spec.id): \(count) samples, expected about \(expected)")
        }
        // Values arrive as the twins were told, within the parts' resolution.
        let pid = try channel(config, "pid"), temp = try channel(config, "temp"), voc = try channel(config, "voc_raw")
        let last = { (c: UInt16) in run.samples.last { $0.channel == c }?.value ?? .nan }
        #expect(abs(last(pid) - 0.06) < 0.001, "PID volts through the ADS1115: \(last(pid))")
        #expect(abs(last(temp) - 21) < 0.1)
        #expect(abs(last(voc) - 30000) < 100)
    }

    @Test("an SGP41 that stops answering is degraded after 3 failures, retried with growing backoff, and started afresh (conditioning) when back; the others go on")
    func nackAndRecovery() throws {
        let (config, virtual) = try payload()
        let start = virtual.clock.now()
        let faultFrom = start + 20_000_000, faultTo = start + 45_000_000
        let run = try run(config, virtual, seconds: 90) { t in
            virtual.set(.nack, t >= faultFrom && t < faultTo, source: "sgp41")
        }
        let degraded = run.events.filter { if case .degraded(let s, _) = $0.event { return s.hasPrefix("sgp41") } else { return false } }
        let recovered = run.events.compactMap { e -> (UInt64, UInt64)? in
            if case .recovered(let s, let after) = e.event, s.hasPrefix("sgp41") { return (e.time, after) }
            return nil
        }
        #expect(degraded.count == 1)
        if let d = degraded.first { #expect(d.time >= faultFrom + 2_000_000 && d.time < faultFrom + 4_000_000, "degraded at the third failed read (1 Hz)") }
        let back = try #require(recovered.first)
        // Retries 1, 2, 4, 8, 16 s after the degradation: the first after the fault ends.
        #expect(back.0 >= faultTo && back.0 < faultTo + 17_000_000)
        #expect(back.1 >= faultTo - faultFrom)
        let voc = try channel(config, "voc_raw"), temp = try channel(config, "temp"), pid = try channel(config, "pid")
        #expect(run.times(channel: voc).filter { $0 > faultFrom + 100_000 && $0 < faultTo }.isEmpty, "no SGP41 sample while it is silent")
        #expect(run.times(channel: temp).filter { $0 > faultFrom && $0 < faultTo }.count >= 23, "the SHT4x goes on")
        #expect(run.times(channel: pid).filter { $0 > faultFrom && $0 < faultTo }.count >= 230, "the ADS1115 goes on at 10 Hz")
        // Started afresh: a self-test and conditioning again, so NOx waits 10 s more.
        let nox = try channel(config, "nox_raw")
        let firstNOx = try #require(run.times(channel: nox).first { $0 > back.0 })
        #expect(firstNOx >= back.0 + 9_000_000, "NOx comes back only after a new conditioning")
        #expect(run.times(channel: voc).contains { $0 > back.0 && $0 < back.0 + 5_000_000 }, "VOC comes during conditioning")
    }

    @Test("bad CRCs, a stuck part and a pulled cable each degrade only their part; each part recovers")
    func faultsOfEachKind() throws {
        let (config, virtual) = try payload()
        let start = virtual.clock.now()
        let windows: [(String, VirtualPayload.Fault, Double, Double)] = [
            // The BME688 sticks for 50 s: degraded after 30 identical readings, then back when
            // its reading moves (a restart may give one fresh value, after which it would
            // stick again: the window ends before a second degradation could be called).
            ("sht4x", .crc, 15, 30), ("bme688", .stuck, 10, 60), ("adc", .unplug, 20, 35), ("ze07", .nack, 25, 40),
        ]
        let run = try run(config, virtual, seconds: 140) { t in
            for (source, fault, from, to) in windows {
                let s = Double(t - start) / 1e6
                virtual.set(fault, s >= from && s < to, source: source)
            }
        }
        for (source, fault, from, to) in windows {
            let degraded = run.events.first { if case .degraded(let s, _) = $0.event { return s.hasPrefix(source + " ") } else { return false } }
            let d = try #require(degraded, "\(source) \(fault) not degraded: \(run.events)")
            #expect(Double(d.time - start) / 1e6 >= from && Double(d.time - start) / 1e6 < to + 0.5, "\(source) degraded at \(Double(d.time - start) / 1e6) s")
            let recovered = run.events.contains { if case .recovered(let s, _) = $0.event { return s.hasPrefix(source + " ") } else { return false } }
            #expect(recovered, "\(source) did not recover")
        }
        let reasons = run.events.compactMap { if case .degraded(let s, let r) = $0.event { return (s, r) } else { return nil } }
        #expect(reasons.first { $0.0.hasPrefix("sht4x") }?.1.contains("checksum") == true, "\(reasons)")
        #expect(reasons.first { $0.0.hasPrefix("bme688") }?.1.contains("stuck") == true, "\(reasons)")
        #expect(reasons.count == 4, "only the faulted parts degrade: \(reasons)")
    }

    @Test("a part missing at start is reported and picked up when it appears")
    func missingAtStart() throws {
        let (config, virtual) = try payload()
        let start = virtual.clock.now()
        virtual.set(.unplug, true, source: "sgp41")
        let run = try run(config, virtual, seconds: 40) { t in
            if t >= start + 12_000_000 { virtual.set(.unplug, false, source: "sgp41") }
        }
        let first = try #require(run.events.first)
        guard case .failedToStart(let sensor, let reason) = first.event else {
            Issue.record("expected failedToStart first, got \(first.event)")
            return
        }
        #expect(sensor.hasPrefix("sgp41") && reason.contains("0x59"), "\(reason)")
        #expect(run.events.contains { if case .recovered(let s, _) = $0.event { return s.hasPrefix("sgp41") } else { return false } })
        #expect(!run.times(channel: try channel(config, "voc_raw")).isEmpty)
    }

    @Test("a channel that asks a part for what it does not measure is refused, naming the file, the channel and the part")
    func mismatchedChannel() throws {
        let text = try String(contentsOfFile: root + "/deploy/payload.pi.toml", encoding: .utf8)
            .replacingOccurrences(of: "id = \"rh\"\nkind = \"humidity\"", with: "id = \"rh\"\nkind = \"sraw_voc\"")
        let config = try PayloadConfiguration.parse(text: text, path: "pi-bad.toml", baseDirectory: root + "/deploy")
        let virtual = try VirtualPayload(payload: config, start: 0)
        #expect {
            _ = try PayloadSensors.sensors(for: config, access: virtual.access)
        } throws: { error in
            let text = "\(error)"
            return text.contains("pi-bad.toml") && text.contains("channels.rh") && text.contains("sht4x")
        }
    }
}
