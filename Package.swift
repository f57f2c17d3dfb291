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
        .library(name: "SnuffelWire", targets: ["SnuffelWire"]),
        .library(name: "SnuffelGeo", targets: ["SnuffelGeo"]),
        .library(name: "SnuffelSim", targets: ["SnuffelSim"]),
        .library(name: "SnuffelGround", targets: ["SnuffelGround"]),
        .library(name: "SnuffelTestSupport", targets: ["SnuffelTestSupport"]),
        .library(name: "SnuffelHardware", targets: ["SnuffelHardware"]),
        .executable(name: "snuffel", targets: ["snuffel"]),
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
    ],
    targets: [
        .target(
            name: "SnuffelCore",
            dependencies: [.product(name: "RealModule", package: "swift-numerics")]
        ),
        .target(
            name: "SnuffelConfig",
            dependencies: ["SnuffelCore", "SnuffelSim", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .target(
            name: "SnuffelWire",
            dependencies: ["SnuffelCore"]
        ),
        // Geodesy, pose tracks, geotagging and GeoJSON: no Foundation, no Glibc.
        .target(
            name: "SnuffelGeo",
            dependencies: ["SnuffelCore", .product(name: "RealModule", package: "swift-numerics")]
        ),
        // Plume, flight and sensor-response simulation; standard library and RealModule only.
        .target(
            name: "SnuffelSim",
            dependencies: ["SnuffelCore", .product(name: "RealModule", package: "swift-numerics")]
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
        .executableTarget(
            name: "snuffel",
            dependencies: [
                "SnuffelCore", "SnuffelConfig", "SnuffelWire", "SnuffelGround", "SnuffelHardware",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer target for the ULog reader; scripts/fuzz builds and runs it.
        .executableTarget(name: "fuzz-ulog", dependencies: ["SnuffelWire"]),
        .testTarget(
            name: "SnuffelCoreTests",
            dependencies: ["SnuffelCore", "SnuffelSim", "SnuffelTestSupport", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .testTarget(
            name: "DetectionTests",
            dependencies: ["SnuffelCore", "SnuffelConfig", "SnuffelWire", "SnuffelTestSupport"]
        ),
        .testTarget(name: "SnuffelCLITests", dependencies: ["snuffel"]),
        .testTarget(name: "SnuffelConfigTests", dependencies: ["SnuffelConfig", "SnuffelCore", "SnuffelSim"]),
        .testTarget(name: "SnuffelSimTests", dependencies: ["SnuffelSim", "SnuffelCore", "SnuffelTestSupport"]),
        .testTarget(name: "SnuffelWireTests", dependencies: ["SnuffelWire", "SnuffelCore"]),
        .testTarget(name: "SnuffelGeoTests", dependencies: ["SnuffelGeo", "SnuffelCore"]),
        .testTarget(name: "SnuffelHardwareTests", dependencies: ["SnuffelHardware"]),
        .testTarget(
            name: "SnuffelGroundTests",
            dependencies: ["SnuffelGround", "SnuffelConfig", "SnuffelCore", "SnuffelGeo", "SnuffelSim", "SnuffelWire"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
