import ArgumentParser
import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelWire

/// `snuffel detect`: runs the pipeline over a CSV file of sensor samples.
struct Detect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run detection over a CSV file of sensor samples and list what was found.",
        discussion: """
            The CSV file has a header row: time_us (UNIX epoch microseconds, UTC), then one column \
            per channel named by its id in the payload configuration (voc_raw, nox_raw, gas_r, pid, \
            nh3, h2s, co, temp, rh for the reference payload), and optionally lat, lon and alt_m. An \
            empty cell means no sample; lines starting with # are comments.

            Every detection is printed with its time (when the air entered the inlet), the class \
            that explains it best, the confidence, whether it is an alert (a likely lab or dump, not \
            a confounder), the compounds behind it and the channels that saw it. Samples the \
            pipeline rejected (not a number, out of range, out of order, duplicate) are counted in \
            the summary. A timeline shows each gas channel's signal in noise units.

            Without a file, the bundled sample flight (flightlogs/sample-core.csv) is used.

            Examples:
              snuffel detect
              snuffel detect survey.csv --config payload.toml
              snuffel detect survey.csv --json > detections.json
            """)

    @Argument(help: ArgumentHelp("CSV file of samples (default: the bundled sample).", valueName: "csv"))
    var file: String?

    @OptionGroup var payload: PayloadOptions

    @Flag(help: "Print the result as JSON instead of a table.")
    var json = false

    @Flag(help: "Skip rows with errors (counted and reported) instead of stopping at the first.")
    var skipBadRows = false

    @Flag(help: "Leave out the per-channel timeline.")
    var noTimeline = false

    func validate() throws {
        if let file, !FileManager.default.fileExists(atPath: file) {
            throw ValidationError("no such file: \(file). Give a CSV of samples, or no file to use the bundled sample.")
        }
    }

    func run() throws {
        let path = file ?? Bundled.path("flightlogs/sample-core.csv")
        let config = try payload.load()
        let channels = config.pipeline.channels
        let pipeline: Pipeline
        do {
            pipeline = try Pipeline(configuration: config.pipeline)
        } catch {
            throw Failure("\(payload.config): \(error)")
        }

        var reader: CSVSampleReader
        do {
            reader = try CSVSampleReader(channelIDs: channels.map(\.id), contentsOfFile: path)
        } catch {
            throw Failure("cannot read \(path): \(error)")
        }
        var timeline = Timeline(channels: channels)
        var badRows: [CSVError] = []
        var rows = 0
        var samples = 0
        var firstTime: UInt64?
        var lastTime: UInt64 = 0
        let progress = Progress(label: path)
        let hint = skipBadRows ? "" : "\n  (use --skip-bad-rows to skip such rows and count them)"
        let header: CSVHeader
        switch Result(catching: { () throws(CSVError) -> CSVHeader? in try reader.readHeader() }) {
        case .failure(let error): throw Failure("\(path): \(error)")
        case .success(nil): throw Failure("\(path): the file is empty")
        case .success(let h?): header = h
        }
        let missing = channels.indices.filter { !header.contains(channel: UInt16($0)) }.map { channels[$0].id }
        if !missing.isEmpty && !json {
            warn("\(path): no column for \(missing.joined(separator: ", ")): those channels have no samples")
        }
        reading: while true {
            switch Result(catching: { () throws(CSVError) -> CSVRow? in try reader.next() }) {
            case .success(nil):
                break reading
            case .failure(let error):
                if case .readFailed = error.reason { throw Failure("\(path): \(error)") }
                guard skipBadRows else { throw Failure("\(path): \(error)\(hint)") }
                badRows.append(error)
            case .success(let row?):
                rows += 1
                if firstTime == nil { firstTime = row.time }
                lastTime = max(lastTime, row.time)
                for s in row.samples {
                    pipeline.process(s)
                    timeline.record(s, pipeline: pipeline)
                }
                samples += row.samples.count
                progress.update(rows: rows)
            }
        }
        pipeline.finish()
        progress.done()
        let detections = pipeline.drainDetections()
        let report = DetectReport(file: path, config: config, rows: rows, samples: samples, firstTime: firstTime,
                                  lastTime: lastTime, health: pipeline.health, badRows: badRows,
                                  backwardRows: reader.backwardRowCount, detections: detections)
        if json {
            print(try report.json())
        } else {
            print(report.text())
            if !noTimeline, let firstTime {
                print(timeline.render(from: firstTime, to: lastTime, detections: detections, width: 72))
            }
        }
    }
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data("snuffel: \(message)\n".utf8))
}

/// Prints a line of progress to standard error every couple of seconds on long inputs,
/// when standard error is a terminal (quiet when piped or logged).
final class Progress {
    let label: String
    let start = Date()
    var lastPrint = Date()
    var printed = false
    let enabled = isatty(STDERR_FILENO) != 0

    init(label: String) { self.label = label }

    func update(rows: Int) {
        guard enabled, rows % 4096 == 0 else { return }
        let now = Date()
        guard now.timeIntervalSince(lastPrint) > 2 else { return }
        lastPrint = now
        printed = true
        let rate = Double(rows) / max(1e-3, now.timeIntervalSince(start))
        FileHandle.standardError.write(Data("\r\(label): \(rows) rows (\(Int(rate)) rows/s)…".utf8))
    }

    func done() {
        if printed { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
