import Foundation

/// Runs a peer program (GDAL's ogrinfo, xmllint, a Python script) for a test and hands back
/// what it printed, or a failure that says how to install the peer.
///
/// Tests compare our files with what real tools make of them; the test command installs
/// those tools. With `SNUFFEL_SKIP_PEERS=1` in the environment, ``skipped`` is true and
/// tests leave the comparison out.
public enum Peer {
    /// Whether peer comparisons are switched off (`SNUFFEL_SKIP_PEERS=1`).
    public static var skipped: Bool { ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] == "1" }

    /// What a peer printed.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// A peer that could not run or failed.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String

        public init(description: String) { self.description = description }
    }

    /// Runs `arguments` through `/usr/bin/env`.
    /// - Parameters:
    ///   - arguments: The program and its arguments.
    ///   - install: How the peer is installed, for the failure message.
    ///   - allowFailure: Return a non-zero exit status instead of failing.
    public static func run(_ arguments: [String], install: String, allowFailure: Bool = false) -> Result<Output, Failure> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        // Standard error goes to a file: a peer that prints much to both streams would
        // block on a full pipe while we read the other one.
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-peer-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = try? FileHandle(forWritingTo: errorFile)
        let hint = "Run scripts/test, which installs it (\(install)); or set SNUFFEL_SKIP_PEERS=1 to skip."
        do {
            try process.run()
        } catch {
            return .failure(Failure(description: "cannot start \(arguments.first ?? "?") (\(error)). \(hint)"))
        }
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let message = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        let status = process.terminationStatus
        if status == 127 { return .failure(Failure(description: "\(arguments.first ?? "?") is not installed. \(hint)")) }
        if status != 0 && !allowFailure {
            return .failure(Failure(description: "\(arguments.joined(separator: " ")) failed with status \(status): \(message)"))
        }
        return .success(Output(status: status, stdout: printed, stderr: message))
    }
}

/// Runs the Python scripts in `Tests/peers` that compare Snuffel with other
/// implementations (pymavlink, pyulog, ...).
public enum PeerScript {
    /// Whether `SNUFFEL_SKIP_PEERS=1` asks to skip the comparisons.
    public static var skipped: Bool { Peer.skipped }

    /// Runs `python3 Tests/peers/SCRIPT ARGUMENTS...` and returns its standard output.
    ///
    /// - Parameters:
    ///   - script: The script's file name in `Tests/peers`.
    ///   - arguments: Its arguments.
    ///   - install: What to install when the peer is missing, for the message.
    ///   - filePath: Any file of the repository's `Tests/<target>/` folder (pass `#filePath`).
    /// - Throws: ``Peer/Failure`` naming the cause and what to install; a script exits
    ///   with status 3 when a Python package it needs is missing.
    public static func run(_ script: String, _ arguments: [String], install: String, filePath: String) throws -> Data {
        let path = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/\(script)").path
        let output = try Peer.run(["python3", path] + arguments, install: install, allowFailure: true).get()
        if output.status == 3 {
            throw Peer.Failure(description: "a Python peer is not installed. Run scripts/test, which installs it (\(install)); or set SNUFFEL_SKIP_PEERS=1 to skip.\n\(output.stderr)")
        }
        guard output.status == 0 else {
            throw Peer.Failure(description: "\(script) failed with status \(output.status)\n\(output.stderr)")
        }
        return Data(output.stdout.utf8)
    }
}
