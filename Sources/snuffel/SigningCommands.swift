import ArgumentParser
import Foundation
import SnuffelSigning

/// `snuffel keygen`: makes a device's Ed25519 signing key.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a device key for signing flight logs.",
        discussion: """
            Writes a new Ed25519 private key to FILE, readable by its owner only (mode 0600), and \
            its public key to FILE.pub; prints the public key and the device id derived from it. \
            An existing key file is never overwritten.

            The private key stays on the drone: the recorder signs every block of the flight log \
            with it. Give the public key (the 64 hexadecimal digits, or the .pub file) to whoever \
            verifies the logs with `snuffel verify LOG --key PUB`.

            Examples:
              snuffel keygen --out /etc/snuffel/device.key
              snuffel simulate --scenario mdma-lab --out flight.ulg --sign-key /etc/snuffel/device.key
              snuffel verify flight.ulg --key /etc/snuffel/device.key.pub
            """)

    @Option(help: ArgumentHelp("The private key file to create (mode 0600); the public key goes to FILE.pub.", valueName: "file"))
    var out: String

    func run() throws {
        do {
            for line in try DeviceKey.createFiles(at: out) { print(line) }
        } catch {
            throw Failure(error.description)
        }
    }
}

/// `snuffel verify`: checks a signed flight log's hash chain and signatures.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that a flight log is the one the drone wrote: intact, cut short, or altered.",
        discussion: """
            A signed flight log holds a SHA-256 hash chain over the blocks the recorder wrote; \
            every block ends with a checkpoint carrying the chain value and the log time, signed \
            with the device's Ed25519 key, and closing the log writes a final checkpoint. The \
            verifier recomputes the chain and checks every signature against the key you give \
            (not the one the log records), reading the file in chunks.

            It says one of:
              intact                           exit status 0
              altered at offset X              exit status 1 (any changed, added or removed byte)
              signed with another key          exit status 1
              truncated, valid up to time T    exit status 2 (a power cut or a copy cut short)
              not signed                       exit status 3

            Examples:
              snuffel verify flight.ulg --key device.key.pub
              snuffel verify flight.ulg --key 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29
            """)

    @Argument(help: ArgumentHelp("The flight log (.ulg).", valueName: "log"))
    var log: String

    @Option(help: ArgumentHelp("The device's public key: 64 hexadecimal digits, base64, or a file holding it (FILE.pub of `snuffel keygen`).", valueName: "pub"))
    var key: String

    func validate() throws {
        do {
            _ = try DevicePublicKey(argument: key)
        } catch {
            throw ValidationError("--key: \(error.description)")
        }
    }

    func run() throws {
        let publicKey: DevicePublicKey
        do {
            publicKey = try DevicePublicKey(argument: key)
        } catch {
            throw Failure("--key: \(error.description)")
        }
        let verdict: SignedLogVerdict
        do {
            verdict = try SignedLogVerifier.verify(path: log, key: publicKey)
        } catch {
            throw Failure(error.description)
        }
        print(Self.describe(verdict, log: log))
        switch verdict {
        case .intact: return
        case .altered, .wrongKey: throw ExitCode(1)
        case .truncated: throw ExitCode(2)
        case .unsigned: throw ExitCode(3)
        }
    }

    /// The verdict in words.
    static func describe(_ verdict: SignedLogVerdict, log: String) -> String {
        switch verdict {
        case .intact(let s):
            return "\(log): intact: \(s.checkpoints) signed checkpoints, \(s.fileByteCount) bytes, up to log time \(time(s.validUpToTime, s))"
                + device(s)
        case .truncated(let s):
            guard s.checkpoints > 0 else {
                return "\(log): truncated before its first checkpoint: nothing in it is vouched for (\(s.fileByteCount) bytes)" + device(s)
            }
            return "\(log): truncated but valid up to log time \(time(s.validUpToTime, s)): \(s.checkpoints) signed checkpoints, "
                + "bytes 0..<\(s.validByteCount) intact, the last \(s.fileByteCount - s.validByteCount) bytes not vouched for" + device(s)
        case .altered(let offset, let reason):
            return "\(log): ALTERED at offset \(offset): \(reason)"
        case .wrongKey(let recorded, let deviceID):
            return "\(log): signed with another key: the log records \(recorded)"
                + (deviceID.map { " (device \($0))" } ?? "") + ", not the key given"
        case .unsigned:
            return "\(log): not signed: it has no checkpoints and records no public key"
        }
    }

    private static func time(_ t: UInt64?, _ s: SignedLogSummary) -> String {
        guard let t else { return "?" }
        var text = s.validUpToUTC.map { utc($0) + " UTC, " } ?? ""
        text += "\(t) µs"
        if let start = s.startTime, t >= start { text += " (\(String(format: "%.1f", Double(t - start) / 1e6)) s after the log's start)" }
        return text
    }

    private static func device(_ s: SignedLogSummary) -> String {
        s.deviceID.map { "; device \($0)" } ?? ""
    }
}
