// swift-tools-version: 6.1
import PackageDescription

import struct Foundation.URL

// SwiftPM names a path dependency after its folder, which is whatever the clone is called.
let snuffel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

// Snuffel's benchmarks, kept out of the main package so that it does not depend on the
// benchmark harness. Run them all, with the NumPy/SciPy reference and Sensirion's C gas
// index side by side, with `scripts/bench` from the repository root (see README.md here).
let package = Package(
    name: "SnuffelBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Inputs shared by the throughput tool and the harness benchmarks.
        .target(
            name: "SnuffelBenchSupport",
            dependencies: [
                .product(name: "SnuffelCore", package: snuffel),
                .product(name: "SnuffelSim", package: snuffel),
                .product(name: "SnuffelTestSupport", package: snuffel),
            ]
        ),
        // Throughput and per-step latency table, side by side with the reference.
        .executableTarget(
            name: "snuffel-bench",
            dependencies: [
                "SnuffelBenchSupport",
                .product(name: "SnuffelCore", package: snuffel),
                .product(name: "SnuffelSim", package: snuffel),
                .product(name: "SnuffelGeo", package: snuffel),
                .product(name: "SnuffelWire", package: snuffel),
                .product(name: "SnuffelConfig", package: snuffel),
                .product(name: "SnuffelGround", package: snuffel),
                .product(name: "SnuffelTestSupport", package: snuffel),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The daemon's CPU per flight hour, peak RSS and detection-to-STATUSTEXT latency, one
        // process per rate.
        .executableTarget(
            name: "daemon-bench",
            dependencies: [
                .product(name: "SnuffelCore", package: snuffel),
                .product(name: "SnuffelConfig", package: snuffel),
                .product(name: "SnuffelOnboard", package: snuffel),
                .product(name: "SnuffelWire", package: snuffel),
                .product(name: "SnuffelTestSupport", package: snuffel),
            ]
        ),
        // ordo-one/benchmark suite: allocations (gated at zero) and latency percentiles.
        .executableTarget(
            name: "PipelineBenchmarks",
            dependencies: [
                "SnuffelBenchSupport",
                .product(name: "SnuffelCore", package: snuffel),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/PipelineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
