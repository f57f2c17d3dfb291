import ArgumentParser
import SnuffelCore

/// VOC index throughput of `GasIndexAlgorithm`, on the series the C harness also reads.
struct GasIndex: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gas-index",
        abstract: "Time GasIndexAlgorithm(kind: .voc) over DIR/sraw_voc.i32; write its indices to DIR/index_swift.i32.",
        discussion: """
            Each run starts a new algorithm and stores every index into a preallocated array, \
            as the C harness does. The first run is discarded.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Timed runs (the median is reported).")
    var runs: Int = 15

    func run() throws {
        let results = ResultsFile(path: common.resultsPath)
        let sraw: [Int32] = try readArray("\(common.dir)/sraw_voc.i32")
        var out = [Int32](repeating: 0, count: sraw.count)
        var seconds: [Double] = []
        for run in 0...runs {
            let t0 = nanoseconds()
            sraw.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { output in
                    var algorithm = GasIndexAlgorithm(kind: .voc)
                    for i in 0..<input.count {
                        output[i] = algorithm.process(sraw: input[i])
                    }
                }
            }
            let t1 = nanoseconds()
            keep(out)
            if run > 0 { seconds.append(Double(t1 - t0) * 1e-9) }
        }
        try writeArray(out, to: "\(common.dir)/index_swift.i32")
        let median = seconds.median
        print("Snuffel VOC index: \(sraw.count) samples, median \(fixed(median * 1e3, 2)) ms, "
              + "\(fixed(median * 1e9 / Double(sraw.count), 2)) ns/sample, "
              + "\(fixed(Double(sraw.count) / median / 1e6, 2)) M samples/s (\(runs) runs)")
        results.record("swift_voc_median_s", median)
        results.record("voc_samples", Double(sraw.count))
    }
}
