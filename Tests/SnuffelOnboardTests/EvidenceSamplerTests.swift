import SnuffelConfig
import SnuffelHardware
import SnuffelOnboard
import SnuffelWire
import Testing

@Suite("The evidence sampler on GPIO lines")
struct EvidenceSamplerTests {
    func make(tubes: Int = 3, activeLow: Bool = false) -> (EvidenceSampler, [SimulatedGPIOLine], SimulatedClock) {
        let clock = SimulatedClock(start: 0)
        let lines = (0..<tubes).map { SimulatedGPIOLine(name: "sim line \($0)", initial: true, clock: clock) }
        let settings = SamplerSettings(chip: "sim", lines: Array(10..<(10 + tubes)), activeLow: activeLow, duration: 60_000_000, confidence: 0.7)
        return (EvidenceSampler(settings: settings, lines: lines), lines, clock)
    }

    @Test("a tube runs for its time on its own line, is logged with where and why, and is never used twice")
    func runsAndCloses() throws {
        let (sampler, lines, clock) = make()
        #expect(lines.allSatisfy { !$0.level }, "every line off at start")
        let pose = ULogPose(time: 5_000_000, latitude: 51.45, longitude: 5.48, altitude: 30)
        clock.advance(microseconds: 5_000_000)
        #expect(sampler.request(reason: .detection, detection: 7, at: 5_000_000, pose: pose) == .started(tube: 1))
        #expect(lines[0].level && !lines[1].level)
        #expect(sampler.request(reason: .operatorRequest, detection: nil, at: 6_000_000, pose: pose) == .busy(tube: 1))
        #expect(sampler.service(now: 64_999_999) == nil, "still running")
        clock.advance(microseconds: 60_000_000)
        let done = try #require(sampler.service(now: 65_000_000))
        #expect(done == ULogTube(tube: 1, start: 5_000_000, end: 65_000_000, latitude: 51.45, longitude: 5.48, altitude: 30,
                                 detection: 7, reason: .detection, isComplete: true))
        #expect(!lines[0].level)
        #expect(lines[0].history.map(\.level) == [false, true, false])
        #expect(lines[0].history.map(\.time) == [0, 5_000_000, 65_000_000], "on for exactly its duration")
        // The operator names a tube; a used tube is refused; then the next free one.
        #expect(sampler.request(tube: 1, reason: .operatorRequest, detection: nil, at: 70_000_000, pose: nil) == .unavailable(tube: 1, reason: "it was used already"))
        #expect(sampler.request(tube: 3, reason: .operatorRequest, detection: nil, at: 70_000_000, pose: nil) == .started(tube: 3))
        let cut = try #require(sampler.stop(now: 80_000_000))
        #expect(!cut.isComplete && cut.end == 80_000_000 && cut.latitude.isNaN, "cut short; no pose known")
        #expect(sampler.request(reason: .detection, detection: 9, at: 90_000_000, pose: nil) == .started(tube: 2))
        _ = sampler.service(now: 150_000_000)
        #expect(sampler.request(reason: .detection, detection: 10, at: 160_000_000, pose: nil) == .full)
        #expect(sampler.remaining == 0)
        #expect(sampler.request(tube: 9, reason: .operatorRequest, detection: nil, at: 0, pose: nil) == .unavailable(tube: 9, reason: "the sampler has tubes 1 to 3"))
    }

    @Test("active-low lines are driven low to run a tube")
    func activeLow() {
        let (sampler, lines, _) = make(tubes: 1, activeLow: true)
        #expect(lines[0].level, "off is high")
        _ = sampler.request(reason: .operatorRequest, detection: nil, at: 0, pose: nil)
        #expect(!lines[0].level)
        _ = sampler.service(now: 60_000_000)
        #expect(lines[0].level)
    }

    @Test("a line that cannot be switched fails the request and leaves the tube free")
    func failingLine() {
        let (sampler, lines, _) = make(tubes: 2)
        lines[0].release()
        guard case .failed(let tube, let reason) = sampler.request(reason: .detection, detection: 1, at: 0, pose: nil) else {
            Issue.record("expected a failure")
            return
        }
        #expect(tube == 1 && reason.contains("EBADF"), "\(reason)")
        #expect(sampler.used == [false, false])
        #expect(sampler.request(tube: 2, reason: .detection, detection: 1, at: 0, pose: nil) == .started(tube: 2))
    }
}
