import ArgumentParser
import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGround

/// `snuffel calibrate`: fit, check and bump-test sensor calibrations, and measure the
/// sensitivity matrix for the signature library.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit, check and bump-test the calibration of each sensor unit; measure the signature library's responses.",
        discussion: """
            A calibration session is a recording (a flight log written by snuffeld or snuffel \
            simulate, or a CSV file) of the payload breathing zero air and known concentrations \
            of a gas, at a few temperatures and humidities, with a steps file saying when each \
            gas flowed:

              [[steps]]
              start_s = 0        # seconds from the session's first sample
              end_s = 120
              gas = "zero"       # zero air
              [[steps]]
              start_s = 120
              end_s = 240
              gas = "isobutylene"  # or a compound id of the signature library
              ppm = 10

            The mean of the last third of each step (plateau_fraction = 0.33 at the top of the \
            file changes it) is one point of the fit.

            Try it on the shipped example session:
              snuffel calibrate fit calibration/sessions/bench-0042.csv \\
                  --config calibration/sessions/bench-0042.payload.toml \\
                  --steps calibration/sessions/bench-0042.steps.toml \\
                  --out /tmp/bench-0042-{channel}.toml
            """,
        subcommands: [Fit.self, Check.self, Bump.self, Matrix.self])
}

/// The session and configuration options shared by fit, bump and matrix.
struct SessionOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The session: a flight log (.ulg) or a CSV file (time_us and one column per channel).", valueName: "session"))
    var session: String

    @Option(name: [.short, .long], help: ArgumentHelp(
        "Payload configuration (TOML) the session's channels belong to: required for CSV; replaces the one recorded in a flight log.",
        valueName: "file"))
    var config: String?

    func load() throws -> CalibrationSession {
        let configuration = try config.map { try PayloadOptions.load(path: $0) }
        do {
            return try CalibrationSession.load(path: session, configuration: configuration)
        } catch {
            throw Failure("\(error)")
        }
    }

    func validate() throws {
        guard FileManager.default.fileExists(atPath: session) else {
            throw ValidationError("no such file: \(session). Give the recorded session: a flight log (.ulg) or a CSV file.")
        }
    }
}

/// Writes a text file, creating its directory; a failure names the file.
func writeText(_ text: String, to path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    do {
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw Failure("cannot write \(path): \(error.localizedDescription)")
    }
}

/// `path` with its extension (if any) replaced.
func replacingExtension(_ path: String, with suffix: String) -> String {
    ((path as NSString).deletingPathExtension) + suffix
}

/// The steps file option shared by fit and matrix.
struct StepsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The steps file (TOML): start_s, end_s, gas and ppm of each step.", valueName: "file"))
    var steps: String

    func validate() throws {
        guard FileManager.default.fileExists(atPath: steps) else {
            throw ValidationError("no such steps file: \(steps). Write one with a [[steps]] table per step (see snuffel calibrate --help).")
        }
    }

    func load() throws -> CalibrationSteps {
        do {
            return try CalibrationSteps.load(path: steps)
        } catch {
            throw Failure("the steps file was refused:\n  \(error)")
        }
    }
}

/// Exit status of check and bump when the unit is out of specification or fails.
let outOfSpecificationStatus: Int32 = 2

extension CalibrateCommand {
    struct Fit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fit",
            abstract: "Fit each channel's calibration to a session and write per-unit calibration files.",
            discussion: """
                The steps file says when zero air and which gas at which ppm flowed (see \
                snuffel calibrate --help). Models, by channel kind (C in ppm; ΔT and ΔAH from the \
                channel's ref_temp_c and ref_abs_humidity, measured by the payload's temperature \
                and humidity channels):
                  MOX (mox_resistance, sraw_voc, sraw_nox):
                      Rs/R0 = a·C^b · exp(k_t ΔT + k_h ΔAH), fitted in log space
                  pid:
                      reading = zero + span·C; the gas's response factor (1000 ppb/ppm for
                      isobutylene, else the signature library's) sets the gain
                  electrochemical:
                      reading = zero + span·C + k_t ΔT
                The temperature and humidity terms are fitted when the steps span ≥ 1 °C and \
                ≥ 0.5 g/m³; otherwise the configured ones are kept.

                Each file holds the calibration keys the payload reads (offset, gain, temp_coeff, \
                humidity_coeff, mox_exponent, sensitivity, noise_floor; point a channel at it with \
                calibration = "../calibration/units/UNIT.toml") and a [fit] table: every parameter \
                with its standard uncertainty, R², the residual of each step, the limit of \
                detection (3 σ of zero air / slope, IUPAC), T90 rise and decay (median time to 90 % \
                of each step change) and the valid range. A plot (SVG) shows each channel's steps, \
                the fit and the residuals.

                The calibration gas of each channel: --gas, else the cell's target gas for an \
                electrochemical cell, isobutylene for PID and MOX channels, or the steps' only gas. \
                Without --channel every gas channel is fitted; a channel that cannot be (it does not \
                see the gas, it saturated, ...) is reported and the exit status is 1.

                Examples:
                  snuffel calibrate fit calibration/sessions/bench-0042.csv \\
                      --config calibration/sessions/bench-0042.payload.toml \\
                      --steps calibration/sessions/bench-0042.steps.toml \\
                      --out calibration/units/bench-0042-{channel}.toml
                  snuffel calibrate fit session.ulg --steps steps.toml --channel pid \\
                      --out calibration/units/pid-0042.toml
                """)

        @OptionGroup var input: SessionOptions

        @OptionGroup var stepsOptions: StepsOptions

        @Option(help: ArgumentHelp(
            "The calibration file to write; with several channels, '{channel}' in it is replaced by each channel's id.",
            valueName: "file"))
        var out: String

        @Option(help: ArgumentHelp("Fit only this channel (repeat for more).", valueName: "id"))
        var channel: [String] = []

        @Option(help: ArgumentHelp("The calibration gas, when a channel's default is not the one wanted.", valueName: "gas"))
        var gas: String?

        @Option(help: ArgumentHelp("Where to write the plot (default: --out with .svg, '{channel}' replaced by 'fit').", valueName: "file"))
        var plot: String?

        func validate() throws {
            guard out.hasSuffix(".toml") else { throw ValidationError("--out must name a .toml file, e.g. calibration/units/pid-0042.toml") }
        }

        func run() throws {
            let session = try input.load()
            let stepsFile = try stepsOptions.load()
            let explicit = !channel.isEmpty
            let ids = explicit ? channel : session.channels.filter(\.kind.isGas).map(\.id)
            if ids.count > 1 && !out.contains("{channel}") {
                throw Failure("\(ids.count) channels to fit (\(ids.joined(separator: ", "))) but --out names one file: put '{channel}' in it (e.g. calibration/units/bench-0042-{channel}.toml) or choose one with --channel")
            }
            var records: [CalibrationFitRecord] = []
            var failures: [String] = []
            for id in ids {
                do {
                    var record = try CalibrationFitter.fit(session: session, steps: stepsFile, channel: id, gas: gas)
                    record.file = out.replacingOccurrences(of: "{channel}", with: id)
                    let header = [
                        "Calibration of channel \(id) (\(record.kind.rawValue)), written by snuffel calibrate fit",
                        "session: \(input.session), steps: \(stepsOptions.steps)",
                    ]
                    try writeText(record.tomlText(header: header), to: record.file)
                    print(record.summary)
                    print("  written to \(record.file)\n")
                    records.append(record)
                } catch let error as CalibrationError {
                    failures.append("\(error)")
                }
            }
            if !records.isEmpty {
                let plotPath = plot ?? replacingExtension(out.replacingOccurrences(of: "{channel}", with: "fit"), with: ".svg")
                try writeText(SVGPlot.render(title: "snuffel calibrate fit: \(input.session)", panels: records.map { $0.plotPanel() }), to: plotPath)
                print("plot: \(plotPath)")
            }
            if !failures.isEmpty {
                warn("not calibrated:\n  " + failures.joined(separator: "\n  "))
                throw ExitCode(1)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Compare a new calibration of a unit with an earlier one: drift of each parameter, flagged against limits.",
            discussion: """
                NEW and OLD are files written by snuffel calibrate fit for the same channel and \
                gas; give several of each to check a whole unit (they are paired by channel). Each parameter's drift is in percent of its old value (zero: percent of the \
                old full-scale response). Default limits: span ±20 %, zero ±5 % of full scale, \
                r0 ±30 %, a ±25 %, b ±15 %, LOD ±100 %, T90 rise and decay ±50 % (Snuffel's own \
                defaults, not a standard's); the temperature and humidity coefficients and R² are \
                reported only. --limit changes a limit or adds one: use those your procedure prescribes.

                Exit status: 0 within specification, 2 out of specification, 1 when the files \
                cannot be compared. A plot (SVG) shows both fits and the new residuals.

                Examples:
                  snuffel calibrate check calibration/units/pid-0042.toml \\
                      --against old/pid-0042.toml
                  snuffel calibrate check new.toml --against old.toml --limit span=10
                  snuffel calibrate check new/bench-0042-*.toml --against old/bench-0042-*.toml
                """)

        @Argument(help: ArgumentHelp("The new calibration file(s) of the unit, one per channel.", valueName: "new"))
        var new: [String]

        @Option(parsing: .upToNextOption, help: ArgumentHelp("The earlier calibration file(s), matched to NEW by channel.", valueName: "old"))
        var against: [String]

        @Option(help: ArgumentHelp("A drift limit in percent, NAME=PERCENT (repeatable), e.g. span=10.", valueName: "name=percent"))
        var limit: [String] = []

        @Option(help: ArgumentHelp("Where to write the plot (default: the first NEW with -check.svg).", valueName: "file"))
        var plot: String?

        func limits() throws -> [String: Double] {
            var limits = CalibrationDrift.defaultLimits
            for item in limit {
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let value = Double(parts[1]), value >= 0 else {
                    throw ValidationError("--limit \(item): write NAME=PERCENT, e.g. --limit span=10")
                }
                limits[parts[0]] = value
            }
            return limits
        }

        func validate() throws {
            _ = try limits()
            guard !new.isEmpty else { throw ValidationError("give the new calibration file(s)") }
            guard !against.isEmpty else { throw ValidationError("give the earlier calibration file(s) with --against") }
        }

        func run() throws {
            func load(_ path: String) throws -> CalibrationFitRecord {
                do { return try CalibrationFitRecord.load(path: path) } catch { throw Failure("\(error)") }
            }
            let newRecords = try new.map(load), oldRecords = try against.map(load)
            var drifts: [CalibrationDrift] = []
            var panels: [PlotPanel] = []
            for record in newRecords {
                // With one file on each side they are compared whatever they say (a wrong
                // pair is then refused with the reason); with several, by channel.
                let candidates = oldRecords.count == 1 && newRecords.count == 1 ? oldRecords : oldRecords.filter { $0.channel == record.channel }
                guard let old = candidates.first else {
                    throw Failure("\(record.file): no earlier calibration of channel '\(record.channel)' among --against (\(oldRecords.map { "\($0.file): \($0.channel)" }.joined(separator: ", ")))")
                }
                do { drifts.append(try CalibrationDrift.compare(new: record, old: old, limits: try limits())) } catch { throw Failure("\(error)") }
                panels.append(record.plotPanel(compared: old))
            }
            print(drifts.map(\.table).joined(separator: "\n\n"))
            let outOfSpec = drifts.filter(\.outOfSpec).map(\.channel)
            if drifts.count > 1 {
                print(outOfSpec.isEmpty ? "\nunit within specification" : "\nunit OUT OF SPECIFICATION (channels \(outOfSpec.joined(separator: ", ")))")
            }
            let plotPath = plot ?? replacingExtension(new[0], with: "-check.svg")
            try writeText(SVGPlot.render(title: "snuffel calibrate check: \(new.joined(separator: ", "))", panels: panels), to: plotPath)
            print("plot: \(plotPath)")
            if !outOfSpec.isEmpty { throw ExitCode(outOfSpecificationStatus) }
        }
    }

    struct Bump: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bump",
            abstract: "Bump test before a flight: pass or fail per channel for a known test gas.",
            discussion: """
                Record the payload in clean air for --baseline-s seconds (20 by default), then \
                give it the test gas until the readings settle, then clean air again. Each gas \
                channel that should respond to the gas (per the signature library and its \
                calibration; a PID reads 1000 ppb per ppm isobutylene) must show that response \
                within --tolerance percent (30 by default): its strongest response (running \
                median of 5 readings) over the clean-air baseline. Channels that should not \
                respond are listed as not tested.

                Exit status: 0 when every tested channel passes, 2 when one fails, 1 when the log \
                cannot be tested. A plot (SVG) shows each tested channel's readings, the \
                expected level and the tolerance band.

                Examples:
                  snuffel calibrate bump preflight.ulg --gas isobutylene --ppm 10
                  snuffel calibrate bump bump.csv -c payload.toml --gas co --ppm 50 --tolerance 20
                """)

        @OptionGroup var input: SessionOptions

        @Option(help: ArgumentHelp("The test gas: isobutylene or a compound id of the signature library.", valueName: "gas"))
        var gas: String

        @Option(help: ArgumentHelp("Its concentration in ppm.", valueName: "ppm"))
        var ppm: Double

        @Option(help: ArgumentHelp("The largest deviation from the expected response that passes, percent.", valueName: "percent"))
        var tolerance: Double = 30

        @Option(name: .customLong("baseline-s"), help: ArgumentHelp("Seconds of clean air at the start of the log.", valueName: "seconds"))
        var baselineSeconds: Double = 20

        @Option(help: ArgumentHelp("Where to write the plot (default: the log with -bump.svg).", valueName: "file"))
        var plot: String?

        func validate() throws {
            guard ppm > 0 && ppm.isFinite else { throw ValidationError("--ppm must be a positive concentration, e.g. --ppm 10") }
            guard tolerance > 0 && tolerance.isFinite else { throw ValidationError("--tolerance must be a positive percentage, e.g. 30") }
            guard baselineSeconds > 0 && baselineSeconds.isFinite else { throw ValidationError("--baseline-s must be positive") }
        }

        func run() throws {
            let session = try input.load()
            let result: BumpTest
            do {
                result = try BumpTest.run(session: session, gas: gas, ppm: ppm, tolerancePercent: tolerance, baselineSeconds: baselineSeconds)
            } catch {
                throw Failure("\(error)")
            }
            print(result.table)
            let plotPath = plot ?? replacingExtension(input.session, with: "-bump.svg")
            try writeText(SVGPlot.render(title: "snuffel calibrate bump: \(CalibrationFitter.format(ppm)) ppm \(gas), \(input.session)", panels: result.plotPanels), to: plotPath)
            print("plot: \(plotPath)")
            if !result.passed { throw ExitCode(outOfSpecificationStatus) }
        }
    }

    struct Matrix: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "matrix",
            abstract: "Measure each channel's response to each compound of a session, written in the signature library's format.",
            discussion: """
                The session has zero-air steps and steps of several compounds. For each gas \
                channel and compound the response per ppm is measured in the library's units \
                (PID: ppb isobutylene-equivalent per ppm; cells: ppm reading per ppm; MOX: the \
                linearised response exp(e/β) − 1 per ppm with the channel's configured β), with \
                the unit's configured calibration and divided by its sensitivity. Responses that \
                stand out of their uncertainty by 3σ are written as [[compounds]] entries with \
                their source; copy them into calibration/signatures.toml to replace illustrative \
                numbers. Fit the unit first and give its fitted calibration with --config: the MOX \
                responses depend on the configured exponent β. A plot (SVG) shows each \
                channel's steps, the fitted responses and the residuals.

                Example:
                  snuffel calibrate matrix calibration/sessions/bench-0042.csv \\
                      --config calibration/sessions/bench-0042.payload.toml \\
                      --steps calibration/sessions/bench-0042.steps.toml --out measured-responses.toml
                """)

        @OptionGroup var input: SessionOptions

        @OptionGroup var stepsOptions: StepsOptions

        @Option(help: ArgumentHelp("The file to write ([[compounds]] entries).", valueName: "file"))
        var out: String

        @Option(help: ArgumentHelp("Where to write the plot (default: --out with .svg).", valueName: "file"))
        var plot: String?

        func run() throws {
            let session = try input.load()
            let stepsFile = try stepsOptions.load()
            let matrix: SensitivityMatrix
            do { matrix = try SensitivityMatrix.estimate(session: session, steps: stepsFile) } catch { throw Failure("\(error)") }
            print(matrix.table)
            try writeText(matrix.tomlText(library: session.library, header: [
                "Responses measured by snuffel calibrate matrix", "session: \(input.session), steps: \(stepsOptions.steps)",
                "Units as in calibration/signatures.toml; a response not listed is zero.",
            ]), to: out)
            print("written to \(out)")
            let plotPath = plot ?? replacingExtension(out, with: ".svg")
            try writeText(SVGPlot.render(title: "snuffel calibrate matrix: \(input.session)", panels: matrix.plotPanels), to: plotPath)
            print("plot: \(plotPath)")
        }
    }
}
