import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGround
import SnuffelPeerTesting
import SnuffelWire
import Testing

/// The bench payload, its simulated sessions and helpers.
enum Bench {
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/SnuffelGroundTests/CalibrationTests.swift
        return parts.joined(separator: "/")
    }()

    static let payloadPath = root + "/calibration/sessions/bench-0042.payload.toml"

    static func configuration() throws -> PayloadConfiguration { try PayloadConfiguration.load(path: payloadPath) }

    /// A simulated session of the bench unit.
    static func session(
        noise: Double, seed: UInt64 = 7, steps: [SimulatedStep] = CalibrationSimulator.benchSteps,
        truth: CalibrationTruth = CalibrationSimulator.benchTruth, edit: (inout [ChannelSpec]) -> Void = { _ in }
    ) throws -> (CalibrationSession, CalibrationSteps) {
        let config = try configuration()
        var channels = config.pipeline.channels
        edit(&channels)
        let samples = CalibrationSimulator.samples(channels: channels, truth: truth, steps: steps, noiseScale: noise, seed: seed)
        let session = CalibrationSession(path: "sim.csv", channels: channels, library: config.pipeline.library, samples: samples)
        return (session, CalibrationSteps(file: "steps.toml", steps: steps.map(\.step)))
    }

    static func scratch(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-calibration-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// The error a throwing call gives, as text.
    static func error<T>(_ body: () throws -> T) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }
}

func close(_ a: Double, _ b: Double, relative: Double) -> Bool { abs(a - b) <= relative * abs(b) }
func close(_ a: Double, _ b: Double, absolute: Double) -> Bool { abs(a - b) <= absolute }

@Suite("Calibration: least squares")
struct CalibrationLeastSquaresTests {
    @Test("an exact line is recovered and simple-regression uncertainties match the textbook formulas")
    func simpleRegression() throws {
        let xs: [Double] = [0, 1, 2, 3, 4, 5]
        let noise: [Double] = [0.1, -0.2, 0.05, 0.15, -0.1, 0]
        let ys = zip(xs, noise).map { 2 + 3 * $0 + $1 }
        let fit = try LinearLeastSquares.fit(rows: xs.map { [1, $0] }, y: ys).get()
        // Textbook: slope = Sxy / Sxx, s² = SSE / (n − 2), var(slope) = s² / Sxx,
        // var(intercept) = s² (1/n + x̄² / Sxx).
        let n = Double(xs.count), xm = xs.reduce(0, +) / n, ym = ys.reduce(0, +) / n
        let sxx = xs.reduce(0) { $0 + ($1 - xm) * ($1 - xm) }
        let sxy = zip(xs, ys).reduce(0) { $0 + ($1.0 - xm) * ($1.1 - ym) }
        let slope = sxy / sxx, intercept = ym - slope * xm
        let sse = zip(xs, ys).reduce(0) { $0 + pow($1.1 - intercept - slope * $1.0, 2) }
        let s2 = sse / (n - 2)
        #expect(close(fit.coefficients[1], slope, absolute: 1e-12))
        #expect(close(fit.coefficients[0], intercept, absolute: 1e-12))
        #expect(close(fit.standardErrors[1], (s2 / sxx).squareRoot(), relative: 1e-10))
        #expect(close(fit.standardErrors[0], (s2 * (1 / n + xm * xm / sxx)).squareRoot(), relative: 1e-10))
        #expect(close(fit.covariance[0][1], -xm * s2 / sxx, relative: 1e-10))
    }

    @Test("dependent columns and too few observations are refused")
    func refusals() {
        #expect(LinearLeastSquares.fit(rows: [[1, 2], [2, 4], [3, 6]], y: [1, 2, 3]) == .failure(.rankDeficient(column: 1)))
        #expect(LinearLeastSquares.fit(rows: [[1, 0], [1, 1]], y: [1, 2]) == .failure(.tooFewObservations(observations: 2, parameters: 2)))
    }
}

@Suite("Calibration: fit recovers the simulated truth")
struct CalibrationFitTests {
    /// Tolerances are stated for the noisiest level (3 × the bench noise: MOX 0.012 neper,
    /// PID 9 ppb, CO cell 0.06 ppm, NH3 cell 0.15 ppm) and hold at all three.
    @Test("MOX power law with temperature and humidity terms, BME688 resistance and SGP41 ticks", arguments: [0.3, 1.0, 3.0])
    func mox(noise: Double) throws {
        let (session, steps) = try Bench.session(noise: noise)
        for id in ["gas_r", "voc_raw"] {
            let truth = try #require(CalibrationSimulator.benchTruth.channels[id])
            let iso = try #require(truth.responses["isobutylene"])
            let fit = try CalibrationFitter.fit(session: session, steps: steps, channel: id)
            #expect(fit.gas == "isobutylene")
            let r0 = try #require(fit.parameter("r0")), a = try #require(fit.parameter("a")), b = try #require(fit.parameter("b"))
            let kT = try #require(fit.parameter("k_t")), kH = try #require(fit.parameter("k_h"))
            let trueR0 = id == "gas_r" ? exp(truth.zero) : truth.zero / 4.0e-4
            #expect(close(r0.value, trueR0, relative: 0.01), "\(id) r0 \(r0.value) vs \(trueR0)")
            #expect(close(a.value, iso.scale, relative: 0.03), "\(id) a \(a.value) vs \(iso.scale)")
            #expect(close(b.value, iso.exponent, absolute: 0.01), "\(id) b \(b.value) vs \(iso.exponent)")
            #expect(close(kT.value, truth.temperatureCoefficient, absolute: 0.001), "\(id) k_t \(kT.value)")
            #expect(close(kH.value, truth.humidityCoefficient, absolute: 0.002), "\(id) k_h \(kH.value)")
            // The stated uncertainty covers the error (5σ, or the 1 % settling bias of
            // first-order sensors over a 120 s step).
            #expect(abs(b.value - iso.exponent) <= 5 * b.sd + 0.005, "\(id) b error vs sd \(b.sd)")
            #expect(fit.rSquared > 0.99)
            // The pipeline's calibration: exponent β = −b, temperature and humidity
            // coefficients of log-conductance = −k.
            #expect(close(fit.calibration.moxExponent, -iso.exponent, absolute: 0.01))
            #expect(close(fit.calibration.humidityCoefficient, -truth.humidityCoefficient, absolute: 0.002))
            // T90 of a first-order sensor is τ ln 10 (channel τ: rise 5 or 6 s, decay 12 s).
            let spec = try #require(session.channels.first { $0.id == id })
            let rise = try #require(fit.t90Rise), decay = try #require(fit.t90Decay)
            #expect(close(rise, spec.riseTauSeconds * log(10), absolute: 2), "\(id) T90 rise \(rise)")
            #expect(close(decay, spec.decayTauSeconds * log(10), absolute: 3), "\(id) T90 decay \(decay)")
            // LOD = 3 s_blank / (β A): with the true noise, within 25 %.
            let trueLOD = 3 * truth.noise * noise / (-iso.exponent * pow(iso.scale, 1 / iso.exponent))
            #expect(close(fit.limitOfDetection, trueLOD, relative: 0.25), "\(id) LOD \(fit.limitOfDetection) vs \(trueLOD)")
            #expect(fit.validMax == 50)
        }
    }

    @Test("PID zero and span with isobutylene; electrochemical zero, span and temperature coefficient", arguments: [0.3, 1.0, 3.0])
    func linear(noise: Double) throws {
        let (session, steps) = try Bench.session(noise: noise)
        let truth = CalibrationSimulator.benchTruth.channels
        let pid = try CalibrationFitter.fit(session: session, steps: steps, channel: "pid")
        #expect(pid.gas == "isobutylene")
        #expect(close(try #require(pid.parameter("zero")).value, 4, absolute: 3))
        #expect(close(try #require(pid.parameter("span")).value, 1050, relative: 0.005))
        #expect(close(pid.calibration.gain, 1000.0 / 1050, relative: 0.005))
        // LOD = 3 s_blank / span with the true noise (3 ppb × level), within 25 %.
        #expect(close(pid.limitOfDetection, 3 * 3 * noise / 1050, relative: 0.25), "PID LOD \(pid.limitOfDetection)")
        let pidT90 = try #require(pid.t90Rise)
        #expect(pidT90 <= 2.5)

        for (id, gas) in [("co", "co"), ("nh3", "ammonia")] {
            let t = try #require(truth[id])
            let fit = try CalibrationFitter.fit(session: session, steps: steps, channel: id)
            #expect(fit.gas == gas)
            let span = try #require(t.responses[gas]).scale
            #expect(close(try #require(fit.parameter("zero")).value, t.zero, absolute: 0.03 * noise + 0.01), "\(id) zero")
            #expect(close(try #require(fit.parameter("span")).value, span, relative: 0.02), "\(id) span")
            #expect(close(try #require(fit.parameter("k_t")).value, t.temperatureCoefficient, absolute: 0.004), "\(id) k_t")
            #expect(close(fit.calibration.gain, 1 / span, relative: 0.02))
            let spec = try #require(session.channels.first { $0.id == id })
            #expect(close(try #require(fit.t90Rise), spec.riseTauSeconds * log(10), absolute: 3), "\(id) T90 rise")
            #expect(close(try #require(fit.t90Decay), spec.decayTauSeconds * log(10), absolute: 3), "\(id) T90 decay")
        }
    }
}

@Suite("Calibration: constant climate")
struct CalibrationConstantClimateTests {
    @Test("steps at one temperature and humidity fit no temperature or humidity terms and keep the configured ones")
    func keepsConfiguredCompensation() throws {
        let steps = CalibrationSimulator.sequence([
            (nil, 0, 25, 50), ("isobutylene", 2, 25, 50), ("isobutylene", 5, 25, 50), ("isobutylene", 10, 25, 50),
            ("isobutylene", 20, 25, 50), (nil, 0, 25, 50),
        ], seconds: 120)
        let (session, calibrationSteps) = try Bench.session(noise: 1, steps: steps) { channels in
            channels[0].calibration.humidityCoefficient = 0.02
            channels[0].calibration.temperatureCoefficient = 0.003
        }
        let fit = try CalibrationFitter.fit(session: session, steps: calibrationSteps, channel: "gas_r")
        #expect(fit.parameter("k_t")?.sd == 0 && fit.parameter("k_h")?.sd == 0)
        #expect(fit.calibration.humidityCoefficient == 0.02 && fit.calibration.temperatureCoefficient == 0.003)
        // ln Rs = ln R0 + k_H ΔAH (+ k_T ΔT, ΔT = 0 here): the fit takes out the configured
        // k_H = −0.02 (log-conductance +0.02) where the truth is −0.025, so R0 at the
        // reference humidity is off by exp(−0.005 ΔAH), ΔAH = 1.5 g/m³ at 25 °C and 50 % RH.
        let dAH = Pipeline.absoluteHumidity(temperature: 25, relativeHumidity: 50) - 10
        #expect(close(try #require(fit.parameter("k_h")).value, -0.02, absolute: 1e-12))
        #expect(close(try #require(fit.parameter("r0")).value, 80_000 * exp(-0.005 * dAH), relative: 0.002))
        #expect(close(try #require(fit.parameter("b")).value, -0.6, absolute: 0.01))
    }
}

@Suite("Calibration: stated uncertainties")
struct CalibrationUncertaintyTests {
    /// Over 40 simulated sessions of 6 steps (4 degrees of freedom, so the error over the
    /// stated σ follows Student's t with 4 degrees of freedom: P(|t| ≤ 2) = 0.884,
    /// P(|t| ≤ 1) = 0.626) the true span of the PID (a fast sensor: no settling bias) must lie
    /// within 2σ in at least 31 sessions (expected 35.4, binomial σ 2.0) and within 1σ in 18
    /// to 33 (expected 25). A σ half the right size puts only about 25 within "2σ"; one twice
    /// the right size puts about 35 within "1σ".
    @Test("the PID span's 1σ uncertainty covers the error as a standard uncertainty should")
    func coverage() throws {
        let steps = CalibrationSimulator.sequence([
            (nil, 0, 25, 50), ("isobutylene", 2, 25, 50), ("isobutylene", 5, 25, 50), ("isobutylene", 10, 25, 50),
            ("isobutylene", 20, 25, 50), (nil, 0, 25, 50),
        ], seconds: 30)
        var inside2 = 0, inside1 = 0
        for seed in 1...40 {
            let (session, calibrationSteps) = try Bench.session(noise: 3, seed: UInt64(seed), steps: steps)
            let span = try #require(CalibrationFitter.fit(session: session, steps: calibrationSteps, channel: "pid").parameter("span"))
            let z = abs(span.value - 1050) / span.sd
            if z <= 2 { inside2 += 1 }
            if z <= 1 { inside1 += 1 }
        }
        #expect(inside2 >= 31, "\(inside2) of 40 within 2σ")
        #expect((18...33).contains(inside1), "\(inside1) of 40 within 1σ")
    }
}

@Suite("Calibration: bad sessions are refused with a clear error")
struct CalibrationRefusalTests {
    @Test("a step after the end of the data names the step and the data's span")
    func stepOutsideData() throws {
        var steps = CalibrationSimulator.benchSteps
        let (session, _) = try Bench.session(noise: 1, steps: steps)
        steps.append(SimulatedStep(.init(index: steps.count, start: 2700, end: 2900, gas: "isobutylene", ppm: 5)))
        let message = Bench.error { try CalibrationFitter.fit(session: session, steps: CalibrationSteps(file: "steps.toml", steps: steps.map(\.step)), channel: "pid") }
        #expect(message == "steps.toml: steps[22] (isobutylene 5 ppm, 2700–2900 s): the step lies outside the session's data: channel 'pid' has samples from 0 to 2640 s of sim.csv (step times are seconds from the session's first sample)")
    }

    @Test("a saturated sensor names the step, the channel and the limit")
    func saturated() throws {
        let (session, steps) = try Bench.session(noise: 1) { channels in
            channels[2].validMax = 40_000  // pid: a 40 ppm range; the 50 ppm step reads 52 500
        }
        let message = Bench.error { try CalibrationFitter.fit(session: session, steps: steps, channel: "pid") }
        #expect(message.hasPrefix("steps.toml: steps[5] (isobutylene 50 ppm, 600–720 s): channel 'pid' is saturated: 39 of its readings in the step's plateau are at or beyond valid_max = 40000.0"), "\(message)")
    }

    @Test("too few points names the channel and what the model needs")
    func tooFewPoints() throws {
        let steps = CalibrationSimulator.sequence([(nil, 0, 25, 50), ("isobutylene", 10, 25, 50), (nil, 0, 25, 50)], seconds: 120)
        let (session, calibrationSteps) = try Bench.session(noise: 1, steps: steps)
        let message = Bench.error { try CalibrationFitter.fit(session: session, steps: calibrationSteps, channel: "pid") }
        #expect(message == "steps.toml: channel 'pid': too few points to fit the pid model with isobutylene: 3 steps (2 zero-air, 1 with isobutylene at 1 different concentrations); the model has 2 parameters and needs more steps than that, at least one zero-air step and 2 different concentrations")
    }

    @Test("a gas the channel does not see: a PID whose lamp does not ionise ammonia")
    func blindChannel() throws {
        var truth = CalibrationSimulator.benchTruth
        truth.channels["pid"]?.responses["ammonia"] = nil
        let (session, steps) = try Bench.session(noise: 1, truth: truth)
        let message = Bench.error { try CalibrationFitter.fit(session: session, steps: steps, channel: "pid", gas: "ammonia") }
        #expect(message.hasPrefix("steps.toml: channel 'pid': the channel does not respond to ammonia: its span is "), "\(message)")
        #expect(message.hasSuffix("not distinguishable from zero (3σ); calibrate it with a gas it sees, or leave it out with --channel"))
    }

    @Test("a gas the cell has no known response to, and a MOX channel moved the wrong way")
    func wrongGas() throws {
        let (session, steps) = try Bench.session(noise: 1)
        #expect(Bench.error { try CalibrationFitter.fit(session: session, steps: steps, channel: "co", gas: "isobutylene") }
            == "steps.toml: channel 'co': no cross-sensitivity of the co cell to 'isobutylene' in the signature library (ec_co); calibrate the cell with its target gas")
        #expect(Bench.error { try CalibrationFitter.fit(session: session, steps: steps, channel: "temp") }
            == "sim.csv: channel 'temp': a temperature channel is not a gas sensor; nothing to fit")
    }

    @Test("steps files: overlapping steps, a blank with a concentration, a gas without one")
    func stepsFile() {
        func parse(_ text: String) -> String { Bench.error { try CalibrationSteps.parse(text: text, path: "s.toml") } }
        #expect(parse("[[steps]]\nstart_s = 0\nend_s = 100\ngas = \"zero\"\n[[steps]]\nstart_s = 50\nend_s = 200\ngas = \"co\"\nppm = 10\n")
            == "s.toml: steps[1].start_s: the step begins at 50.0 s, before the previous step ends (100.0 s): steps are in time order and do not overlap")
        #expect(parse("[[steps]]\nstart_s = 0\nend_s = 100\ngas = \"zero\"\nppm = 5\n") == "s.toml: steps[0].ppm: a zero-air step has no concentration; got 5.0 ppm")
        #expect(parse("[[steps]]\nstart_s = 0\nend_s = 100\ngas = \"co\"\n") == "s.toml: steps[0].ppm: missing required key 'ppm' (the concentration of co in ppm)")
        #expect(parse("[[steps]]\nstart_s = 10\nend_s = 5\ngas = \"zero\"\n") == "s.toml: steps[0].end_s: must be after start_s (10.0), got 5.0")
    }
}

@Suite("Calibration: files, check, bump, matrix and plots")
struct CalibrationOutputTests {
    @Test("the written unit file loads as a payload calibration and as a fit record")
    func roundTrip() throws {
        let (session, steps) = try Bench.session(noise: 1)
        let fit = try CalibrationFitter.fit(session: session, steps: steps, channel: "gas_r")
        let path = Bench.scratch("gas_r.toml")
        try fit.tomlText(header: ["test"]).write(toFile: path, atomically: true, encoding: .utf8)
        let calibration = try Calibration.load(path: path)
        #expect(close(calibration.offset, fit.calibration.offset, relative: 1e-9))
        #expect(close(calibration.moxExponent, fit.calibration.moxExponent, relative: 1e-9))
        let record = try CalibrationFitRecord.load(path: path)
        #expect(record.parameters.map(\.name) == ["r0", "a", "b", "k_t", "k_h"])
        #expect(record.points.count == fit.points.count)
        #expect(close(record.rSquared, fit.rSquared, relative: 1e-9))
        #expect(record.t90Rise != nil)
    }

    @Test("check: no drift against itself; a span 30 % lower is out of specification")
    func drift() throws {
        let (session, steps) = try Bench.session(noise: 1)
        let old = try CalibrationFitter.fit(session: session, steps: steps, channel: "pid")
        let same = try CalibrationDrift.compare(new: old, old: old)
        #expect(!same.outOfSpec)
        var truth = CalibrationSimulator.benchTruth
        truth.channels["pid"]?.responses["isobutylene"]?.scale = 1050 * 0.7
        let (aged, _) = try Bench.session(noise: 1, seed: 8, truth: truth)
        let new = try CalibrationFitter.fit(session: aged, steps: steps, channel: "pid")
        let drift = try CalibrationDrift.compare(new: new, old: old)
        let span = try #require(drift.rows.first { $0.name == "span" })
        #expect(close(try #require(span.percent), -30, absolute: 1))
        #expect(span.outOfSpec && drift.outOfSpec)
        #expect(drift.rows.filter(\.outOfSpec).map(\.name) == ["span"])
    }

    @Test("bump: a good PID passes with isobutylene, one at half sensitivity fails")
    func bump() throws {
        let steps = CalibrationSimulator.sequence([(nil, 0, 25, 50), ("isobutylene", 10, 25, 50), (nil, 0, 25, 50)], seconds: 40)
        var truth = CalibrationSimulator.benchTruth
        truth.channels["pid"]?.responses["isobutylene"]?.scale = 1000
        let (good, _) = try Bench.session(noise: 1, steps: steps, truth: truth)
        let pass = try BumpTest.run(session: good, gas: "isobutylene", ppm: 10)
        #expect(pass.passed)
        let row = try #require(pass.rows.first { $0.channel == "pid" })
        #expect(row.status == .pass && close(row.measured, 10_000, relative: 0.02))
        #expect(pass.rows.filter { $0.status == .pass }.map(\.channel) == ["pid"])
        truth.channels["pid"]?.responses["isobutylene"]?.scale = 500
        let (weak, _) = try Bench.session(noise: 1, steps: steps, truth: truth)
        let fail = try BumpTest.run(session: weak, gas: "isobutylene", ppm: 10)
        #expect(!fail.passed)
        #expect(fail.rows.first { $0.channel == "pid" }?.status == .fail)
        #expect(Bench.error { try BumpTest.run(session: weak, gas: "argon", ppm: 10) }.hasPrefix("sim.csv: --gas argon: unknown test gas"))
    }

    @Test("matrix: measured responses per ppm, blind pairs left out, written in the library's format", arguments: [1.0, 3.0])
    func matrix(noise: Double) throws {
        let (session, steps) = try Bench.session(noise: noise)
        let matrix = try SensitivityMatrix.estimate(session: session, steps: steps)
        func entry(_ compound: String, _ channel: String) throws -> SensitivityMatrix.Entry {
            try #require(matrix.entry(compound: compound, channel: channel))
        }
        // PID and cells: the true spans, in physical units with gain 1.
        #expect(close(try entry("isobutylene", "pid").perPPM, 1050, relative: 0.01))
        #expect(close(try entry("ammonia", "pid").perPPM, 100, relative: 0.05))
        #expect(close(try entry("co", "co").perPPM, 0.95, relative: 0.02))
        #expect(close(try entry("ammonia", "nh3").perPPM, 1.08, relative: 0.02))
        #expect(try !entry("co", "pid").significant)
        #expect(try !entry("isobutylene", "co").significant)
        #expect(try !entry("co", "nh3").significant)
        // MOX: the median of (exp(e/β) − 1)/C over the steps, e = −ln(a C^b), β = 0.5.
        for (compound, ppms) in [("isobutylene", [2.0, 5, 10, 20, 50, 10, 30, 10, 30]), ("co", [10.0, 30, 100])] {
            let r = try #require(CalibrationSimulator.benchTruth.channels["gas_r"]?.responses[compound])
            let expected = try #require(ppms.map { (exp(-(log(r.scale) + r.exponent * log($0)) / 0.5) - 1) / $0 }.sorted().dropFirst(ppms.count / 2).first)
            let e = try entry(compound, "gas_r")
            #expect(e.significant && close(e.perPPM, expected, relative: 0.08), "gas_r \(compound) \(e.perPPM) vs \(expected)")
        }
        #expect(try entry("co", "voc_raw").significant)
        // A MOX channel that does not see a compound: only noise over its zero air.
        var truth = CalibrationSimulator.benchTruth
        truth.channels["voc_raw"]?.responses["co"] = nil
        let (blind, _) = try Bench.session(noise: noise, truth: truth)
        #expect(try #require(SensitivityMatrix.estimate(session: blind, steps: steps).entry(compound: "co", channel: "voc_raw")).significant == false)
        let library = try SignatureLibrary.parse(text: matrix.tomlText(library: session.library, header: ["test"]), path: "m.toml")
        let ammonia = try #require(library.compounds.first { $0.id == "ammonia" })
        #expect(Set(ammonia.responses.keys) == ["mox_resistance", "sraw_voc", "pid", "ec_nh3"])
        #expect(library.compounds.map(\.id) == ["isobutylene", "co", "ammonia"])
    }

    @Test("plots are well-formed SVG with the expected series", .disabled(if: Peer.skipped))
    func svg() throws {
        let (session, steps) = try Bench.session(noise: 1)
        let fits = try ["gas_r", "pid"].map { try CalibrationFitter.fit(session: session, steps: steps, channel: $0) }
        let text = SVGPlot.render(title: "fit <test> & check", panels: fits.map { $0.plotPanel(compared: $0) })
        let path = Bench.scratch("fit.svg")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        switch Peer.run(["xmllint", "--noout", path], install: "apt-get install libxml2-utils") {
        case .failure(let failure): Issue.record("\(failure)")
        case .success(let out): #expect(out.status == 0, "\(out.stderr)")
        }
        for name in ["steps (isobutylene)", "fit", "earlier fit", "residual"] {
            #expect(text.contains("<g class=\"series\" data-name=\"\(name)\">"), "series \(name)")
        }
        #expect(text.contains("concentration (ppm isobutylene)") && text.contains("Rs/R0 (at reference T, AH)"))
        #expect(text.contains("fit &lt;test&gt; &amp; check"))
        // Steps: one marker per isobutylene step on gas_r (9) and per step of the PID fit (9 + 7 blanks), twice (compared with itself).
        #expect(text.components(separatedBy: "<circle").count - 1 >= 2 * (9 + 16))
    }
}

@Suite("Calibration: the shipped example session")
struct CalibrationExampleTests {
    static let csvPath = Bench.root + "/calibration/sessions/bench-0042.csv"
    static let stepsPath = Bench.root + "/calibration/sessions/bench-0042.steps.toml"

    static func texts() throws -> (csv: String, steps: String) {
        let config = try Bench.configuration()
        let samples = CalibrationSimulator.samples(
            channels: config.pipeline.channels, truth: CalibrationSimulator.benchTruth, steps: CalibrationSimulator.benchSteps, seed: 42)
        let csv = CalibrationSimulator.csv(channels: config.pipeline.channels, samples: samples, comment: [
            "Simulated calibration session of the bench unit bench-0042 (payload: bench-0042.payload.toml).",
            "Made by CalibrationSimulator (benchSteps, benchTruth, seed 42); regenerate with",
            "SNUFFEL_WRITE_CALIBRATION_EXAMPLE=1 swift test --skip-build --filter CalibrationExample",
        ])
        let steps = CalibrationSimulator.stepsTOML(CalibrationSimulator.benchSteps, comment: [
            "Steps of the calibration session bench-0042.csv: seconds from its first sample, gas, ppm.",
            "gas = \"zero\" is zero air. Made by CalibrationSimulator.benchSteps (see bench-0042.csv).",
        ])
        return (csv, steps)
    }

    @Test("the shipped CSV and steps are what the simulator makes (regenerate with SNUFFEL_WRITE_CALIBRATION_EXAMPLE=1)")
    func shippedMatchesGenerator() throws {
        let (csv, steps) = try Self.texts()
        if ProcessInfo.processInfo.environment["SNUFFEL_WRITE_CALIBRATION_EXAMPLE"] == "1" {
            try csv.write(toFile: Self.csvPath, atomically: true, encoding: .utf8)
            try steps.write(toFile: Self.stepsPath, atomically: true, encoding: .utf8)
        }
        #expect(try String(contentsOfFile: Self.csvPath, encoding: .utf8) == csv)
        #expect(try String(contentsOfFile: Self.stepsPath, encoding: .utf8) == steps)
        #expect(csv.utf8.count < 400_000)
    }

    @Test("a session recorded as a Snuffel flight log (ULog) fits with the configuration recorded in it, as from memory")
    func flightLogSession() throws {
        let config = try Bench.configuration()
        let samples = CalibrationSimulator.samples(
            channels: config.pipeline.channels, truth: CalibrationSimulator.benchTruth, steps: CalibrationSimulator.benchSteps, seed: 3)
        let path = Bench.scratch("session.ulg")
        let recorder = try FlightRecorder(
            path: path, pipeline: try Pipeline(configuration: config.pipeline), startTime: samples[0].time, utcOffset: nil,
            payloadTOML: config.payloadFile.text, signaturesTOML: config.signaturesFile.text)
        for s in samples { try recorder.record(s) }
        _ = try recorder.finish()
        let fromLog = try CalibrationSession.load(path: path, configuration: nil)
        let steps = CalibrationSteps(file: "steps.toml", steps: CalibrationSimulator.benchSteps.map(\.step))
        let inMemory = CalibrationSession(path: "mem", channels: config.pipeline.channels, library: config.pipeline.library, samples: samples)
        #expect(fromLog.channels.map(\.id) == config.pipeline.channels.map(\.id))
        for id in ["gas_r", "pid", "co"] {
            let a = try CalibrationFitter.fit(session: fromLog, steps: steps, channel: id)
            let b = try CalibrationFitter.fit(session: inMemory, steps: steps, channel: id)
            for (p, q) in zip(a.parameters, b.parameters) {
                // The log stores values as recorded; allow for float storage.
                #expect(close(p.value, q.value, absolute: 1e-5 * max(1, abs(q.value)) + 1e-6 + q.sd * 1e-3), "\(id) \(p.name)")
            }
        }
    }

    @Test("the shipped session reads back through the CSV reader and fits every gas channel")
    func shippedFits() throws {
        let session = try CalibrationSession.load(path: Self.csvPath, configuration: try Bench.configuration())
        let steps = try CalibrationSteps.load(path: Self.stepsPath)
        for id in ["gas_r", "voc_raw", "pid", "co", "nh3"] {
            let fit = try CalibrationFitter.fit(session: session, steps: steps, channel: id)
            #expect(fit.rSquared > 0.99, "\(id)")
        }
    }
}
