import Foundation

/// Runs the Python scripts in `Tests/peers` that compare Snuffel with other
/// implementations (pymavlink, pyulog, ...).
public enum PeerScript {
    /// Whether `SNUFFEL_SKIP_PEERS=1` asks to skip the comparisons.
    public static let skipped = ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] == "1"

    /// A peer script could not run or failed.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        /// Creates a failure with its message.
        public init(description: String) { self.description = description }
    }

    /// Runs `python3 Tests/peers/SCRIPT ARGUMENTS...` and returns its standard output.
    ///
    /// - Parameters:
    ///   - script: The script's file name in `Tests/peers`.
    ///   - arguments: Its arguments.
    ///   - install: What to install when the peer is missing, for the message.
    ///   - filePath: Any file of the repository's `Tests/<target>/` folder (pass `#filePath`).
    /// - Throws: ``Failure`` naming the cause and what to install (or `SNUFFEL_SKIP_PEERS=1`).
    public static func run(_ script: String, _ arguments: [String], install: String, filePath: String) throws -> Data {
        let path = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/\(script)").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let hint = "Run scripts/test, which installs the peers (\(install)); or set SNUFFEL_SKIP_PEERS=1 to skip."
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot start /usr/bin/env python3 (\(error)). \(hint)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let cause = switch process.terminationStatus {
            case 127: "python3 is not installed"
            case 3: "a Python peer is not installed"
            default: "\(script) failed with status \(process.terminationStatus)"
            }
            throw Failure(description: "\(cause). \(hint)\n\(message)")
        }
        return data
    }
}
