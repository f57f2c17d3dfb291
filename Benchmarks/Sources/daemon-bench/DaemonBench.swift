import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelOnboard
import SnuffelTestSupport
import SnuffelWire

#if canImport(Glibc)
import Glibc
#endif

// The daemon's cost on a companion computer, in one process per rate so that its peak
// memory is its own:
//
//   daemon-bench --rate 10 --hours 1 [--payload deploy/payload.example.toml] [--results FILE]
//
// The reference payload, every channel at --rate, flies --hours of synthetic air (a plume
// of a cycling class every minute, noise, dropped samples) through the daemon's runtime
// (OnboardDaemon: pipeline, flight recorder writing and flushing a real log file every
// second, HEARTBEAT and live values, a STATUSTEXT per detection) as fast as it can go.
// Prints: CPU seconds per flight hour (the runtime's work only: the air is generated
// between measured spans), that as a share of one core, the process's peak RSS (VmHWM,
// everything included), and the latency from the sample that completes a detection
// arriving to its STATUSTEXT being handed to the MAVLink transport, p50 and p99.

/// A transport that keeps nothing and notes when a STATUSTEXT leaves.
final class CountingTransport: MAVLinkTransport {
    let endpoint = "bench"
    var bytes = 0
    var statusTextAt: UInt64?
    func receiveFrames(timeoutMilliseconds: Int) throws -> [MAVLinkFrame] { [] }
    func sendFrames(_ frame: [UInt8]) throws {
        bytes += frame.count
        // MAVLink 2: the message id is bytes 7–9; STATUSTEXT is 253.
        if statusTextAt == nil, frame.count > 9, frame[0] == 0xFD, frame[7] == 253, frame[8] == 0 { statusTextAt = monotonicNanoseconds() }
    }
}

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Peak resident set of this process, MB (VmHWM in /proc/self/status).
func peakRSSMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kB = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kB / 1024
}

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path
let rate = Double(argument("--rate") ?? "10") ?? 10
let hours = Double(argument("--hours") ?? "1") ?? 1
let payloadPath = argument("--payload") ?? root + "/deploy/payload.example.toml"
let results = argument("--results")

var payload = try PayloadConfiguration.load(path: payloadPath)
var configuration = payload.pipeline
for i in configuration.channels.indices { configuration.channels[i].rateHz = rate }
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }
let start: UInt64 = 1_000_000
let recorder = try FlightRecorder(
    path: directory + "/bench.ulg", pipeline: try Pipeline(configuration: configuration), startTime: start,
    utcOffset: 1_790_000_000_000_000, payloadTOML: payload.payloadFile.text, signaturesTOML: payload.signaturesFile.text)
let transport = CountingTransport()
var options = OnboardDaemon.Options()
options.logDirectory = directory
let daemon = OnboardDaemon(
    recorder: recorder, link: transport, messages: GroundStationMessages(channels: configuration.channels, library: configuration.library),
    options: options, start: start, say: { _ in })

// One minute of air at a time (a plume of a cycling class 20 s in), so the input never
// holds more than a minute of samples.
let classes = ["mdma-synthesis", "manure", "amphetamine-synthesis", "exhaust", "drug-waste", "solvent"]
var world = SyntheticWorld()
for c in configuration.channels {
    world.noise[c.id] = c.kind.isGas ? c.calibration.noiseFloor : (c.kind == .temperature ? 0.02 : 0.1)
}
world.sensitivitySpread = 0.25
world.dropProbability = 0.01
let minutes = Int((hours * 60).rounded())
var cpu = 0.0
var latencies: [Double] = []
var samples = 0
var nextService = start
let wall0 = monotonicNanoseconds()
for minute in 0..<minutes {
    let cls = classes[minute % classes.count]
    let events = SyntheticEvent.ofClass(cls, in: configuration.library, totalPPM: 2, start: 20, duration: 10).map { [$0] } ?? []
    let stream = SyntheticStream(
        channels: configuration.channels, library: configuration.library, events: events, world: world, duration: 60,
        startTime: start + UInt64(minute) * 60_000_000)
    let air = stream.samples(seed: UInt64(minute) &+ 1)
    let c0 = processCPUSeconds()
    for s in air {
        let before = daemon.detections
        transport.statusTextAt = nil
        let t0 = monotonicNanoseconds()
        daemon.record(s)
        if daemon.detections > before, let sent = transport.statusTextAt { latencies.append(Double(sent - t0) / 1000) }
        if s.time >= nextService {
            daemon.service(now: s.time, waitMilliseconds: 0)
            nextService = s.time + 100_000
        }
        samples += 1
    }
    cpu += processCPUSeconds() - c0
}
let c0 = processCPUSeconds()
daemon.finish(at: start + UInt64(minutes) * 60_000_000)
cpu += processCPUSeconds() - c0
let wall = Double(monotonicNanoseconds() - wall0) / 1e9
let perHour = cpu / hours
let rss = peakRSSMegabytes()
let sortedLatencies = latencies.sorted()
/// A percentile, nearest rank.
let pct: (Double) -> Double = { p in
    sortedLatencies.isEmpty ? .nan
        : sortedLatencies[max(0, min(sortedLatencies.count - 1, Int((p / 100 * Double(sortedLatencies.count)).rounded(.up)) - 1))]
}
let logSize = ((try? FileManager.default.attributesOfItem(atPath: directory + "/bench.ulg"))?[.size] as? Int) ?? 0
print(String(format: "daemon at %.0f Hz × %d channels, %.1f h of flight (%d samples, %d detections, log %.1f MB, %.1f s wall):",
             rate, configuration.channels.count, hours, samples, daemon.detections, Double(logSize) / 1e6, wall))
print(String(format: "  CPU %.1f s per flight hour = %.2f %% of one core; peak RSS %.1f MB; detection to STATUSTEXT p50 %.0f µs, p99 %.0f µs (%d detections)",
             perHour, perHour / 36, rss, pct(50), pct(99), latencies.count))
if let results {
    let key = "daemon_\(Int(rate))hz"
    let lines = [
        "\(key)_cpu_s_per_hour \(perHour)", "\(key)_peak_rss_mb \(rss)", "\(key)_latency_p50_us \(pct(50))",
        "\(key)_latency_p99_us \(pct(99))", "\(key)_detections \(latencies.count)",
    ]
    if let handle = FileHandle(forWritingAtPath: results) {
        handle.seekToEndOfFile()
        handle.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        handle.closeFile()
    } else {
        _ = FileManager.default.createFile(atPath: results, contents: Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
