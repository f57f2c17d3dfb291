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
