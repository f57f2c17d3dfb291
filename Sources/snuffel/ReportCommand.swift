import ArgumentParser
import Foundation
import SnuffelGeo
import SnuffelGround
import SnuffelReview
import SnuffelSigning

/// `snuffel report`: one self-contained HTML file about a flight, and a PDF of it.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a flight's report: one HTML file (map, plots, detections with their evidence and review marks, sources, settings, the log's SHA-256 and signature check).",
        discussion: """
            Replays the flight log with the configuration recorded in it, localises the sources \
            and writes one HTML file that opens in any browser without a network: a summary, a \
            map (track coloured by signal, detections, sources with their 50 % and 95 % areas, \
            the gas map) and plots of the signals as inline SVG, each detection with its evidence \
            and its review mark (from `snuffel review`, stored beside the log as LOG.review.sqlite), \
            the sources, the evidence samples taken, and the configuration and calibration used.

            The report gives the log file's SHA-256 and checks its signature: "intact", \
            "truncated" (valid up to a time), "ALTERED" (at an offset), "signed with another key" \
            (with --key) or "not signed". With \
            --key the log is checked against the device's public key; without it, against the key \
            the log records, which shows the file is unchanged since it was signed but not which \
            device signed it.

            --pdf also prints the report to PDF with headless Chromium (`apt-get install chromium` \
            on Debian).

            Examples:
              snuffel report flightlogs/mdma-lab.ulg --out report.html
              snuffel report flight.ulg --out r.html --pdf r.pdf --key device.key.pub
            """)

    @Argument(help: ArgumentHelp("The flight log (.ulg) or CSV file.", valueName: "log"))
    var log: String

    @Option(help: ArgumentHelp("The HTML file to write.", valueName: "file"))
    var out: String

    @Option(help: ArgumentHelp("Also print the report to this PDF file (needs headless Chromium).", valueName: "file"))
    var pdf: String?

    @Option(help: ArgumentHelp(
        "The device's public key to check the signature against: 64 hexadecimal digits, base64, or a file (FILE.pub of `snuffel keygen`).",
        valueName: "pub"))
    var key: String?

    @Option(name: [.short, .long], help: ArgumentHelp(
        "Payload configuration (TOML) to replay with instead of the one recorded in the log; for a CSV file, the payload its columns belong to (default: deploy/payload.example.toml).",
        valueName: "file"))
    var config: String?

    func validate() throws {
        guard FileManager.default.fileExists(atPath: log) else {
            throw ValidationError("no such file: \(log). Give a flight log (.ulg) written by snuffeld or snuffel simulate.")
        }
        if let key {
            do { _ = try DevicePublicKey(argument: key) } catch { throw ValidationError("--key: \(error.description)") }
        }
        if let config, !FileManager.default.fileExists(atPath: config) {
            throw ValidationError("no such configuration file: \(config)")
        }
        if let pdf, pdf == out { throw ValidationError("--pdf and --out name the same file") }
    }

    func run() throws {
        var options = ReplayOptions(defaultConfigurationPath: Bundled.path("deploy/payload.example.toml"))
        if let config { options.configuration = try PayloadOptions.load(path: config) }
        let progress = Progress(label: log)
        let (result, _, view) = try FlightView.replay(path: log, options: options) { progress.update(fraction: $0) }
        progress.done()
        let integrity = try Self.integrity(of: log, key: key)
        let review: (marks: [Int: ReviewMark], audit: [ReviewAuditEntry])
        do {
            review = try ReviewStore.review(ofLog: log)
        } catch {
            throw Failure(error.description)
        }
        let report = FlightReport(
            view: view, integrity: integrity, configuration: result.configuration, marks: review.marks, audit: review.audit,
            generated: isoUTCNow())
        do {
            try report.html().write(toFile: out, atomically: true, encoding: .utf8)
        } catch {
            throw Failure("cannot write \(out): \(error.localizedDescription)")
        }
        print("wrote \(out): \(view.detections.count) detections, \(view.sources.count) sources; signature: \(integrity.headline)")
        if let pdf {
            try Chromium.printToPDF(html: out, pdf: pdf)
            print("wrote \(pdf)")
        }
    }

    /// The log's SHA-256 and what checking its signature says: against `key` when given,
    /// else against the key the log records.
    static func integrity(of log: String, key: String?) throws -> LogIntegrity {
        do {
            let digest = try LogDigest.sha256(path: log)
            var verdict: SignedLogVerdict
            var against = "the key given"
            if let key {
                verdict = try SignedLogVerifier.verify(path: log, key: try DevicePublicKey(argument: key))
            } else {
                // A fresh key is never the signer's: an unsigned log says so, a signed one
                // names the key it records, which is then checked.
                verdict = try SignedLogVerifier.verify(path: log, key: DeviceKey().publicKey)
                if case .wrongKey(let recorded, _) = verdict, let own = try? DevicePublicKey(argument: recorded) {
                    verdict = try SignedLogVerifier.verify(path: log, key: own)
                    against = "the key the log records (give --key to check which device signed it)"
                }
            }
            return LogIntegrity(sha256: digest.hex, byteCount: digest.byteCount, signature: signature(verdict, against: against))
        } catch let error as SignedLogReadError {
            throw Failure(error.description)
        } catch let error as DeviceKeyError {
            throw Failure("--key: \(error.description)")
        }
    }

    static func signature(_ verdict: SignedLogVerdict, against: String) -> LogIntegrity.Signature {
        func device(_ s: SignedLogSummary) -> String { s.deviceID.map { ", device \($0)" } ?? "" }
        func until(_ s: SignedLogSummary) -> String {
            if let u = s.validUpToUTC { return isoTime(u) + " UTC" }
            return s.validUpToTime.map { "log time \($0) µs" } ?? "?"
        }
        switch verdict {
        case .unsigned:
            return .notSigned
        case .intact(let s):
            return .intact("\(s.checkpoints) signed checkpoints, every byte vouched for up to \(until(s)), checked against \(against)\(device(s))")
        case .truncated(let s):
            guard s.checkpoints > 0 else { return .truncated("cut before its first checkpoint: nothing in it is vouched for") }
            return .truncated("truncated at \(until(s)): bytes 0..<\(s.validByteCount) of \(s.fileByteCount) vouched for, checked against \(against)\(device(s))")
        case .altered(let offset, let reason):
            return .altered("altered at byte offset \(offset): \(reason)")
        case .wrongKey(let recorded, let deviceID):
            return .wrongKey("the log records key \(recorded)" + (deviceID.map { " (device \($0))" } ?? "") + ", not the key given")
        }
    }
}

/// The current time as ISO 8601 UTC, to the second.
func isoUTCNow() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}

/// Headless Chromium, for printing to PDF.
enum Chromium {
    /// The browser's path, or nil when none is installed.
    static func find() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for dir in path.split(separator: ":") {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// Prints an HTML file to PDF.
    static func printToPDF(html: String, pdf: String) throws {
        guard let browser = find() else {
            throw Failure("""
                --pdf needs headless Chromium, which is not installed (looked for chromium, chromium-browser and \
                google-chrome in PATH). On Debian or Ubuntu: sudo apt-get install chromium. The HTML report \
                was written; a browser's "Print to PDF" makes the same file.
                """)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        let page = URL(fileURLWithPath: html).standardizedFileURL.absoluteString
        let target = URL(fileURLWithPath: pdf).standardizedFileURL.path
        process.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--print-to-pdf=\(target)", page]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try? FileManager.default.removeItem(atPath: target)
        do {
            try process.run()
        } catch {
            throw Failure("cannot start \(browser): \(error.localizedDescription)")
        }
        // A browser that hangs (no display server it insists on, a locked profile) is ended.
        let watchdog = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: watchdog)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        watchdog.cancel()
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: target) else {
            throw Failure("\(browser) could not print \(html) to \(pdf) (status \(process.terminationStatus)): "
                + message.split(separator: "\n").suffix(3).joined(separator: "; "))
        }
    }
}
