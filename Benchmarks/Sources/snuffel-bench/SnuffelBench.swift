import ArgumentParser

/// The throughput, latency and gas index timings of `scripts/bench`, and the inputs it
/// shares with the NumPy/SciPy reference and the Sensirion C harness.
@main
struct SnuffelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snuffel-bench",
        abstract: "Time Snuffel's pipeline and gas index; write the inputs the reference implementations read.",
        discussion: """
            scripts/bench runs these in order: prepare, throughput, latency, gas-index. Each \
            prints a table and appends `key value` lines to the results file that the final \
            summary reads. Build in release: swift build -c release --product snuffel-bench.
            """,
        subcommands: [Prepare.self, Throughput.self, Latency.self, GasIndex.self, Posterior.self, ReplayFlight.self]
    )
}

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Directory of the shared inputs (stream*.f64, channels*.json, sraw_voc.i32).")
    var dir: String

    @Option(help: "File to append `key value` result lines to (default: DIR/results.txt).")
    var results: String?

    var resultsPath: String { results ?? dir + "/results.txt" }

    func validate() throws {
        guard !dir.isEmpty else { throw ValidationError("--dir must name a directory, e.g. --dir /tmp/bench") }
    }
}
