import Foundation
import Testing

@Suite("snuffel probe")
struct ProbeCLITests {
    @Test("--simulate finds every simulated part and compares with the payload configuration")
    func simulate() throws {
        let r = try CLI.run(["probe", "--simulate", "--config", "deploy/payload.example.toml"])
        #expect(r.status == 0, "\(r.stderr)")
        for text in ["SGP41", "SHT4x", "BME688", "ADS1115", "passed", "SRAW_VOC", "found     channels voc_raw, nox_raw"] {
            #expect(r.stdout.contains(text), "\(text) missing in:\n\(r.stdout)")
        }
    }

    @Test("a part unplugged in simulation is MISSING and fails the command")
    func missingPart() throws {
        let r = try CLI.run(["probe", "--simulate", "--unplug", "0x76", "--config", "deploy/payload.example.toml"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("BME688       MISSING   needed by channels gas_r"), "\(r.stdout)")
    }

    @Test("a missing bus says how to enable I2C")
    func missingBus() throws {
        let r = try CLI.run(["probe", "--i2c", "/dev/i2c-snuffel-missing"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/dev/i2c-snuffel-missing: open: ENOENT") && r.stderr.contains("enable I2C"), "\(r.stderr)")
    }

    @Test("--unplug without --simulate is refused with a reason")
    func validation() throws {
        let r = try CLI.run(["probe", "--unplug", "0x76"])
        #expect(r.status != 0 && r.stderr.contains("--unplug works only with --simulate"))
    }
}

@Suite("snuffel probe with the payload's [[sources]]")
struct ProbeSourcesCLITests {
    /// The example payload with its commented sources block uncommented, in a scratch file
    /// next to nothing: the signature library is named by its absolute path.
    static func examplePayloadWithSources() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let text = try String(contentsOfFile: root + "/deploy/payload.example.toml", encoding: .utf8)
        var inBlock = false
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("# --- sources example") { inBlock = true; continue }
            if line.hasPrefix("# --- end of the sources example") { inBlock = false; continue }
            lines.append(inBlock ? (line == "#" ? "" : line.hasPrefix("# ") ? String(line.dropFirst(2)) : line) : line)
        }
        let uncommented = lines.joined(separator: "\n")
            .replacingOccurrences(of: "signatures = \"../calibration/signatures.toml\"", with: "signatures = \"\(root)/calibration/signatures.toml\"")
            .replacingOccurrences(of: "id = \"voc_raw\"\n", with: "id = \"voc_raw\"\nsource = \"sgp41\"\n")
            .replacingOccurrences(of: "id = \"gas_r\"\n", with: "id = \"gas_r\"\nsource = \"bme688\"\n")
        let path = NSTemporaryDirectory() + "snuffel-probe-\(UUID().uuidString).toml"
        try uncommented.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("--simulate --config checks each I2C source at its address and names the bridge")
    func sourcesFound() throws {
        let config = try Self.examplePayloadWithSources()
        defer { try? FileManager.default.removeItem(atPath: config) }
        let r = try CLI.run(["probe", "--simulate", "--config", config])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        for text in ["sgp41        found     SGP41 at /dev/i2c-1 @0x59, channels voc_raw",
                     "bme688       found     BME688 at /dev/i2c-1 @0x76, channels gas_r",
                     "sht4x        found     SHT4x at /dev/i2c-1 @0x44, no channel",
                     "bridge       bridge at /dev/ttyACM0: not probed here",
                     "SGP41        found     channels nox_raw"] {
            #expect(r.stdout.contains(text), "\(text) missing in:\n\(r.stdout)")
        }
    }

    @Test("a source whose part is unplugged is MISSING at its address")
    func sourceMissing() throws {
        let config = try Self.examplePayloadWithSources()
        defer { try? FileManager.default.removeItem(atPath: config) }
        let r = try CLI.run(["probe", "--simulate", "--unplug", "0x76", "--config", config])
        #expect(r.status == 1)
        #expect(r.stdout.contains("bme688       MISSING   nothing usable answers at /dev/i2c-1 @0x76, needed by channels gas_r"), "\(r.stdout)")
    }

    @Test("without --i2c, probe opens the buses the configuration names")
    func busFromConfiguration() throws {
        let config = try Self.examplePayloadWithSources()
        defer { try? FileManager.default.removeItem(atPath: config) }
        let moved = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "/dev/i2c-1", with: "/dev/i2c-snuffel-missing")
        try moved.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["probe", "--config", config])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/dev/i2c-snuffel-missing: open: ENOENT"), "\(r.stderr)")
    }
}
