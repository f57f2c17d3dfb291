import Foundation
import Testing

@Suite("snuffel keygen and verify")
struct SigningCLITests {
    @Test("keygen makes a 0600 key; a simulated flight signed with it verifies intact, cut, altered, with another key and unsigned")
    func keygenSimulateVerify() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-signing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let key = dir + "/device.key", log = dir + "/flight.ulg"

        let made = try CLI.run(["keygen", "--out", key])
        #expect(made.status == 0, "\(made.stderr)")
        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(publicKey.count == 64 && made.stdout.contains(publicKey))
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let again = try CLI.run(["keygen", "--out", key])
        #expect(again.status != 0 && again.stderr.contains("never overwritten"))

        let simulated = try CLI.run(["simulate", "--scenario", "confounders-only", "--out", log, "--sign-key", key, "--device-id", "drone-7"])
        #expect(simulated.status == 0, "\(simulated.stderr)")

        let intact = try CLI.run(["verify", log, "--key", key + ".pub"])
        #expect(intact.status == 0, "\(intact.stdout)\(intact.stderr)")
        #expect(intact.stdout.contains("intact") && intact.stdout.contains("device drone-7") && intact.stdout.contains("UTC"))
        let byValue = try CLI.run(["verify", log, "--key", publicKey])
        #expect(byValue.status == 0)

        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: log)))
        let cut = dir + "/cut.ulg"
        try Data(bytes[..<(bytes.count * 2 / 3)]).write(to: URL(fileURLWithPath: cut))
        let truncated = try CLI.run(["verify", cut, "--key", publicKey])
        #expect(truncated.status == 2)
        #expect(truncated.stdout.contains("truncated but valid up to log time"), "\(truncated.stdout)")

        bytes[bytes.count / 2] ^= 0x01
        let altered = dir + "/altered.ulg"
        try Data(bytes).write(to: URL(fileURLWithPath: altered))
        let changed = try CLI.run(["verify", altered, "--key", publicKey])
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("ALTERED at offset"), "\(changed.stdout)")

        let other = try CLI.run(["keygen", "--out", dir + "/other.key"])
        #expect(other.status == 0)
        let wrong = try CLI.run(["verify", log, "--key", dir + "/other.key.pub"])
        #expect(wrong.status == 1 && wrong.stdout.contains("signed with another key") && wrong.stdout.contains(publicKey))

        let plain = try CLI.run(["verify", "flightlogs/mdma-lab.ulg", "--key", publicKey])
        #expect(plain.status == 3 && plain.stdout.contains("not signed"))

        let logs = dir + "/daemon"
        let daemon = Process()
        daemon.executableURL = CLI.executable.deletingLastPathComponent().appendingPathComponent("snuffeld")
        daemon.arguments = ["--simulate", "--scenario", "confounders-only", "--speed", "0", "--mavlink-port", "0",
                            "--log-dir", logs, "--sign-key", key]
        daemon.currentDirectoryURL = URL(fileURLWithPath: CLI.root)
        daemon.standardOutput = FileHandle.nullDevice
        try daemon.run()
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        let written = try FileManager.default.contentsOfDirectory(atPath: logs).filter { $0.hasSuffix(".ulg") }
        #expect(written.count == 1)
        if let name = written.first {
            let daemonLog = try CLI.run(["verify", logs + "/" + name, "--key", publicKey])
            #expect(daemonLog.status == 0 && daemonLog.stdout.contains("intact"), "\(daemonLog.stdout)")
        }

        let bad = try CLI.run(["verify", log, "--key", "not-a-key"])
        #expect(bad.status != 0 && bad.stderr.contains("neither a public key"))
    }
}
