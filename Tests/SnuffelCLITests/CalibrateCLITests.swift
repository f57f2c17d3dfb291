import Foundation
import Testing

/// `snuffel calibrate` as a user runs it, on the shipped example session.
@Suite("snuffel calibrate")
struct CalibrateCLITests {
    static let session = "calibration/sessions/bench-0042.csv"
    static let payload = "calibration/sessions/bench-0042.payload.toml"
    static let steps = "calibration/sessions/bench-0042.steps.toml"

    static func directory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-calibrate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Runs xmllint --noout on a file.
    static func wellFormed(_ path: String) throws -> CLI.Result {
        try CLI.run(executable: URL(fileURLWithPath: "/usr/bin/xmllint"), ["--noout", path])
    }

    /// Fits the example session into `dir`.
    static func fit(into dir: String, _ extra: [String] = []) throws -> CLI.Result {
        try CLI.run(["calibrate", "fit", session, "--config", payload, "--steps", steps, "--out", dir + "/bench-0042-{channel}.toml"] + extra)
    }

    @Test("fit writes a calibration file per gas channel and a well-formed plot with each channel's series")
    func fitExample() throws {
        let dir = try Self.directory()
        let result = try Self.fit(into: dir)
        #expect(result.status == 0, "\(result.stderr)")
        for id in ["gas_r", "voc_raw", "pid", "co", "nh3"] {
            let text = try String(contentsOfFile: "\(dir)/bench-0042-\(id).toml", encoding: .utf8)
            #expect(text.contains("offset = ") && text.contains("[fit]") && text.contains("channel = \"\(id)\""), "\(id)")
            #expect(text.contains("lod_ppm = ") && text.contains("t90_rise_s = ") && text.contains("[[fit.points]]"), "\(id)")
            #expect(result.stdout.contains("written to \(dir)/bench-0042-\(id).toml"))
        }
        // A payload that names the fitted files loads and builds its pipeline.
        let payload = try String(contentsOfFile: CLI.root + "/" + Self.payload, encoding: .utf8)
            .replacingOccurrences(of: "signatures = \"../signatures.toml\"", with: "signatures = \"\(CLI.root)/calibration/signatures.toml\"")
            .replacingOccurrences(of: "calibration = { offset = 100000, mox_exponent = 0.5 }", with: "calibration = \"bench-0042-gas_r.toml\"")
            .replacingOccurrences(of: "calibration = { offset = 0, gain = 1, noise_floor = 2 }", with: "calibration = \"bench-0042-pid.toml\"")
        #expect(payload.contains("calibration = \"bench-0042-gas_r.toml\"") && payload.contains("calibration = \"bench-0042-pid.toml\""))
        try payload.write(toFile: dir + "/fitted.payload.toml", atomically: true, encoding: .utf8)
        let checked = try CLI.run(["check-config", dir + "/fitted.payload.toml"])
        #expect(checked.status == 0 && checked.stdout.contains("pipeline builds: yes"), "\(checked.stdout)\(checked.stderr)")
        let svgPath = dir + "/bench-0042-fit.svg"
        let lint = try Self.wellFormed(svgPath)
        #expect(lint.status == 0, "\(lint.stderr)")
        let svg = try String(contentsOfFile: svgPath, encoding: .utf8)
        for series in ["steps (isobutylene)", "steps (co)", "steps (ammonia)", "fit", "residual"] {
            #expect(svg.contains("data-name=\"\(series)\""), "\(series)")
        }
        for title in ["gas_r (mox_resistance), isobutylene", "pid (pid), isobutylene", "nh3 (electrochemical), ammonia"] {
            #expect(svg.contains(title))
        }
    }

    @Test("fit refuses a step outside the data, naming the file and the step; exit status 1")
    func fitBadStep() throws {
        let dir = try Self.directory()
        let stepsPath = dir + "/steps.toml"
        try """
            [[steps]]
            start_s = 0
            end_s = 120
            gas = "zero"
            [[steps]]
            start_s = 3000
            end_s = 3100
            gas = "isobutylene"
            ppm = 10
            """.write(toFile: stepsPath, atomically: true, encoding: .utf8)
        let result = try CLI.run(["calibrate", "fit", Self.session, "--config", Self.payload, "--steps", stepsPath, "--channel", "pid", "--out", dir + "/pid.toml"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(stepsPath): steps[1] (isobutylene 10 ppm, 3000–3100 s): the step lies outside the session's data: channel 'pid' has samples from 0 to 2640 s"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/pid.toml"))
    }

    @Test("fit refuses one --out file for several channels, and a CSV session without its payload")
    func fitRefusals() throws {
        let dir = try Self.directory()
        let several = try CLI.run(["calibrate", "fit", Self.session, "--config", Self.payload, "--steps", Self.steps, "--out", dir + "/unit.toml"])
        #expect(several.status == 1)
        #expect(several.stderr.contains("5 channels to fit (gas_r, voc_raw, pid, co, nh3) but --out names one file: put '{channel}' in it"), "\(several.stderr)")
        let noConfig = try CLI.run(["calibrate", "fit", Self.session, "--steps", Self.steps, "--channel", "pid", "--out", dir + "/pid.toml"])
        #expect(noConfig.status == 1)
        #expect(noConfig.stderr.contains("\(Self.session): a CSV file records no payload configuration: give one with --config"), "\(noConfig.stderr)")
    }

    @Test("check: 0 against itself; 2 with a span drifted beyond its limit; 1 for files of different channels")
    func check() throws {
        let dir = try Self.directory()
        #expect(try Self.fit(into: dir, ["--channel", "pid", "--channel", "co"]).status == 0)
        let pid = dir + "/bench-0042-pid.toml"
        let same = try CLI.run(["calibrate", "check", pid, "--against", pid])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stdout.contains("within specification"))
        #expect(try Self.wellFormed(dir + "/bench-0042-pid-check.svg").status == 0)

        // An older calibration whose span was 40 % higher: today's span is 29 % lower.
        let text = try String(contentsOfFile: pid, encoding: .utf8)
        let old = dir + "/old-pid.toml"
        let spanBlock = try #require(text.range(of: "name = \"span\"\nvalue = "))
        let valueEnd = try #require(text[spanBlock.upperBound...].firstIndex(of: "\n"))
        let span = try #require(Double(text[spanBlock.upperBound..<valueEnd]))
        try text.replacingCharacters(in: spanBlock.upperBound..<valueEnd, with: String(span * 1.4)).write(toFile: old, atomically: true, encoding: .utf8)
        let drifted = try CLI.run(["calibrate", "check", pid, "--against", old])
        #expect(drifted.status == 2, "\(drifted.stdout)\(drifted.stderr)")
        #expect(drifted.stdout.contains("OUT OF SPECIFICATION: span"))
        #expect(drifted.stdout.contains("-28.6 %"))
        // A looser limit accepts it.
        #expect(try CLI.run(["calibrate", "check", pid, "--against", old, "--limit", "span=30"]).status == 0)

        // The whole unit: pid and co against their earlier files, paired by channel.
        let co = dir + "/bench-0042-co.toml"
        let unit = try CLI.run(["calibrate", "check", pid, co, "--against", co, old])
        #expect(unit.status == 2, "\(unit.stdout)\(unit.stderr)")
        #expect(unit.stdout.contains("channel co") && unit.stdout.contains("unit OUT OF SPECIFICATION (channels pid)"), "\(unit.stdout)")
        let unpaired = try CLI.run(["calibrate", "check", pid, co, "--against", old])
        #expect(unpaired.status == 1)
        #expect(unpaired.stderr.contains("\(co): no earlier calibration of channel 'co' among --against"), "\(unpaired.stderr)")

        let mixed = try CLI.run(["calibrate", "check", pid, "--against", dir + "/bench-0042-co.toml"])
        #expect(mixed.status == 1)
        #expect(mixed.stderr.contains("[fit] channel: is 'pid' (pid) but \(dir)/bench-0042-co.toml is of 'co' (electrochemical)"), "\(mixed.stderr)")
    }

    /// A bump-test log of the bench payload: 25 s of clean air, 25 s of isobutylene read as
    /// `reading` ppb by the PID, then clean air.
    static func bumpLog(reading: Double, in dir: String) throws -> String {
        var csv = "time_us,gas_r,voc_raw,pid,co,nh3,temp,rh\n"
        for t in 0..<75 {
            let pid = (25..<50).contains(t) ? reading + Double(t % 3) * 20 : 3 + Double(t % 2)
            csv += "\(1_790_000_000_000_000 + UInt64(t) * 1_000_000),80000,30000,\(pid),0.05,-0.1,25.00,50.0\n"
        }
        let path = dir + "/bump-\(Int(reading)).csv"
        try csv.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("bump: 0 when the PID reads 10 ppm isobutylene as expected, 2 when it reads half; the plot is well-formed")
    func bump() throws {
        let dir = try Self.directory()
        let good = try CLI.run(["calibrate", "bump", try Self.bumpLog(reading: 9_800, in: dir), "--config", Self.payload, "--gas", "isobutylene", "--ppm", "10"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("PASS"))
        #expect(good.stdout.contains("not tested"))
        let svg = dir + "/bump-9800-bump.svg"
        #expect(try Self.wellFormed(svg).status == 0)
        #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("data-name=\"reading\""))

        let weak = try CLI.run(["calibrate", "bump", try Self.bumpLog(reading: 5_000, in: dir), "--config", Self.payload, "--gas", "isobutylene", "--ppm", "10"])
        #expect(weak.status == 2, "\(weak.stdout)\(weak.stderr)")
        #expect(weak.stdout.contains("FAIL: pid"))

        let unknown = try CLI.run(["calibrate", "bump", try Self.bumpLog(reading: 9_800, in: dir), "--config", Self.payload, "--gas", "argon", "--ppm", "10"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("--gas argon: unknown test gas"))
    }

    @Test("matrix writes measured responses as [[compounds]] entries and a well-formed plot")
    func matrix() throws {
        let dir = try Self.directory()
        let out = dir + "/measured.toml"
        let result = try CLI.run(["calibrate", "matrix", Self.session, "--config", Self.payload, "--steps", Self.steps, "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.contains("[[compounds]]\nid = \"ammonia\"\nname = \"Ammonia (NH3)\"\n"))
        #expect(text.contains("responses.ec_nh3 = { per_ppm = 1.07"))
        #expect(text.contains("responses.pid = { per_ppm = 1050"))
        #expect(text.contains("# ec_co (channel co): no significant response"))
        let svg = dir + "/measured.svg"
        #expect(try Self.wellFormed(svg).status == 0)
        #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("data-name=\"co steps\""))
    }

    @Test("every calibrate command explains itself with an example")
    func help() throws {
        for command in ["fit", "check", "bump", "matrix"] {
            let result = try CLI.run(["calibrate", command, "--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("snuffel calibrate \(command) "), "\(command)")
            #expect(result.stdout.contains("Example"), "\(command)")
        }
    }
}
