// swift-tools-version: 6.1
import PackageDescription

// Snuffel: sniffer-drone gas detection. Module map in README.md and ARCHITECTURE.md.
// SnuffelCore imports only the standard library and RealModule (no Foundation).
let package = Package(
    name: "Snuffel",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SnuffelCore", targets: ["SnuffelCore"]),
        .library(name: "SnuffelConfig", targets: ["SnuffelConfig"]),
        .library(name: "BridgeProtocol", targets: ["BridgeProtocol"]),
        .library(name: "SnuffelWire", targets: ["SnuffelWire"]),
        .library(name: "SnuffelGeo", targets: ["SnuffelGeo"]),
        .library(name: "SnuffelSim", targets: ["SnuffelSim"]),
        .library(name: "SnuffelGround", targets: ["SnuffelGround"]),
        .library(name: "SnuffelTestSupport", targets: ["SnuffelTestSupport"]),
        .library(name: "SnuffelHardware", targets: ["SnuffelHardware"]),
        .library(name: "SnuffelSigning", targets: ["SnuffelSigning"]),
        .library(name: "SnuffelOnboard", targets: ["SnuffelOnboard"]),
        .executable(name: "snuffel", targets: ["snuffel"]),
        .executable(name: "snuffeld", targets: ["snuffeld"]),
    ],
    // libgpiod v1 (Debian 12, Raspberry Pi OS bookworm) is the default; `--traits LibgpiodV2`
    // builds SnuffelHardware's GPIO lines against libgpiod 2.x (Debian 13) instead.
    traits: [
        .trait(name: "LibgpiodV2", description: "Build GPIO support against the libgpiod 2.x API instead of 1.x."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", exact: "1.1.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", exact: "0.6.0"),
        // Ed25519 and SHA-256 for the signed flight log (SnuffelSigning only).
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        // The review web app (SnuffelReview only): HTTP server, and SQLite for the marks.
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    ],
    targets: [
        .target(
            name: "SnuffelCore",
            dependencies: [.product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(
            name: "SnuffelConfig",
            dependencies: ["SnuffelCore", "SnuffelSim", "SnuffelWire", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        // The frame format shared with the bridge firmware: standard library only; the
        // same files compile as Embedded Swift in firmware-bridge/Makefile.
        .target(name: "BridgeProtocol"),
        .target(
            name: "SnuffelWire",
            dependencies: ["SnuffelCore", "BridgeProtocol"]
        ),
        // Geodesy, pose tracks, geotagging, source estimation and GIS export: no Foundation,
        // no Glibc. Always optimised: the source-estimation loop runs about 100 times slower
        // unoptimised, which would make debug builds (and the test suite) crawl.
        .target(
            name: "SnuffelGeo",
            dependencies: ["SnuffelCore", .product(name: "RealModule", package: "swift-numerics")],
            swiftSettings: [.unsafeFlags(["-O"])]
        ),
        // Plume, flight and sensor-response simulation; standard library and RealModule, with
        // SnuffelGeo and SnuffelWire to place a flight on the map as the records a drone logs.
        .target(
            name: "SnuffelSim",
            dependencies: ["SnuffelCore", "SnuffelGeo", "SnuffelWire", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(
            name: "SnuffelTestSupport",
            dependencies: ["SnuffelCore", "SnuffelSim", "SnuffelWire", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(
            name: "SnuffelGround",
            dependencies: ["SnuffelCore", "SnuffelConfig", "SnuffelWire", "SnuffelGeo", "SnuffelSim"]
        ),
        // The C libraries of the hardware layer; only SnuffelHardware imports them.
        .systemLibrary(name: "CI2C", providers: [.apt(["libi2c-dev"])]),
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .systemLibrary(name: "CSerialPort", pkgConfig: "libserialport", providers: [.apt(["libserialport-dev"])]),
        // I2C, GPIO and serial wrappers, sensor drivers and their simulated twins.
        .target(name: "SnuffelHardware", dependencies: ["CI2C", "CGPIOD", "CSerialPort"]),
        // The onboard daemon's runtime (messages to the ground station so far).
        .target(
            name: "SnuffelOnboard",
            dependencies: ["SnuffelCore", "SnuffelConfig", "SnuffelWire", "SnuffelHardware", .product(name: "RealModule", package: "swift-numerics")]
        ),
        // The signed flight log: a SHA-256 hash chain over the blocks a ULogFileWriter
        // writes, checkpoints signed with the device's Ed25519 key, device keys, and the
        // streaming verifier behind `snuffel verify`. The only target that links Crypto.
        .target(
            name: "SnuffelSigning",
            dependencies: ["SnuffelWire", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // `snuffel review`: the local web app (Hummingbird) and the review marks with their
        // audit trail (SQLite through GRDB). The only target that links either.
        .target(
            name: "SnuffelReview",
            dependencies: [
                "SnuffelCore", "SnuffelGeo", "SnuffelGround", "SnuffelSigning",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Runs peer programs (ogrinfo, xmllint, Python scripts) for tests.
        .target(name: "SnuffelPeerTesting"),
        .executableTarget(
            name: "snuffel",
            dependencies: [
                "SnuffelCore", "SnuffelConfig", "SnuffelWire", "SnuffelGeo", "SnuffelGround", "BridgeProtocol", "SnuffelHardware", "SnuffelSigning", "SnuffelReview",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "snuffeld",
            dependencies: [
                "SnuffelCore", "SnuffelConfig", "SnuffelWire", "SnuffelGeo", "SnuffelSim", "SnuffelOnboard", "SnuffelSigning", "SnuffelHardware",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer target for the ULog reader; scripts/fuzz builds and runs it.
        .executableTarget(name: "fuzz-ulog", dependencies: ["SnuffelWire"]),
        // libFuzzer targets for the MAVLink frame decoder and tlog reader, and the DataFlash reader.
        .executableTarget(name: "fuzz-mavlink", dependencies: ["SnuffelWire"]),
        .executableTarget(name: "fuzz-dataflash", dependencies: ["SnuffelWire"]),
        // libFuzzer target for the signed-log verifier (snuffel verify).
        .executableTarget(name: "fuzz-verify", dependencies: ["SnuffelSigning"]),
        // libFuzzer target for the detection pipeline: hostile samples, and the per-sample
        // and batched paths compared.
        .executableTarget(name: "fuzz-pipeline", dependencies: ["SnuffelCore"]),
        // libFuzzer target for the bridge frame decoder; scripts/fuzz builds and runs it.
        .executableTarget(name: "fuzz-bridge", dependencies: ["SnuffelWire", "BridgeProtocol"]),
        .testTarget(
            name: "SnuffelCoreTests",
            dependencies: ["SnuffelCore", "SnuffelSim", "SnuffelTestSupport", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .testTarget(
            name: "DetectionTests",
            dependencies: ["SnuffelCore", "SnuffelConfig", "SnuffelWire", "SnuffelTestSupport"]
        ),
        .testTarget(name: "SnuffelCLITests", dependencies: ["snuffel", "snuffeld", "SnuffelWire"]),
        .testTarget(name: "SnuffelConfigTests", dependencies: ["SnuffelConfig", "SnuffelCore", "SnuffelSim"]),
        .testTarget(name: "SnuffelSimTests", dependencies: ["SnuffelSim", "SnuffelCore", "SnuffelTestSupport"]),
        .testTarget(name: "SnuffelWireTests", dependencies: ["SnuffelWire", "SnuffelCore", "SnuffelTestSupport", "SnuffelPeerTesting"]),
        // The bridge: protocol examples against PROTOCOL.md, the decoder, the sample
        // mapping, and the firmware in qemu-system-arm.
        .testTarget(name: "BridgeTests", dependencies: ["BridgeProtocol", "SnuffelWire", "SnuffelCore", "SnuffelConfig", "snuffel", "snuffeld"]),
        .testTarget(
            name: "SnuffelOnboardTests",
            dependencies: [
                "SnuffelOnboard", "SnuffelCore", "SnuffelWire", "SnuffelConfig", "SnuffelHardware", "SnuffelTestSupport", "SnuffelPeerTesting",
            ]
        ),
        .testTarget(name: "SnuffelGeoTests", dependencies: ["SnuffelGeo", "SnuffelCore", "SnuffelPeerTesting"]),
        .testTarget(name: "SnuffelHardwareTests", dependencies: ["SnuffelHardware"]),
        .testTarget(
            name: "SnuffelSigningTests",
            dependencies: ["SnuffelSigning", "SnuffelWire", "SnuffelCore", "SnuffelSim", "SnuffelPeerTesting"]
        ),
        .testTarget(
            name: "SnuffelGroundTests",
            dependencies: ["SnuffelGround", "SnuffelConfig", "SnuffelCore", "SnuffelGeo", "SnuffelSim", "SnuffelWire", "SnuffelPeerTesting", "SnuffelTestSupport"]
        ),
        // `snuffel report` and `snuffel review`: the report's content, the web app over HTTP,
        // its security, the marks' store, and both pages in headless Chromium.
        .testTarget(
            name: "SnuffelReviewTests",
            dependencies: ["SnuffelReview", "SnuffelGround", "SnuffelCore", "SnuffelPeerTesting", "snuffel"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
