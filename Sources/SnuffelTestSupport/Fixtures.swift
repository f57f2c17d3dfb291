import SnuffelCore

/// Payloads and libraries written in code, for tests that must not depend on the
/// shipped TOML files.
public enum Fixtures {
    /// The reference payload's nine channels with plausible calibrations (the shipped
    /// `deploy/payload.example.toml` is the authoritative one).
    public static func referenceChannels() -> [ChannelSpec] {
        [
            ChannelSpec(id: "voc_raw", kind: .srawVOC, sensor: "Sensirion SGP41", unit: "ticks", rateHz: 1,
                        delaySeconds: 1.5, riseTauSeconds: 4, decayTauSeconds: 12, validMin: 0, validMax: 65535,
                        calibration: Calibration(offset: 30000, gain: 1.0 / 1000, moxExponent: 0.6, noiseFloor: 0.002)),
            ChannelSpec(id: "nox_raw", kind: .srawNOx, sensor: "Sensirion SGP41", unit: "ticks", rateHz: 1,
                        delaySeconds: 1.5, riseTauSeconds: 4, decayTauSeconds: 12, validMin: 0, validMax: 65535,
                        calibration: Calibration(offset: 15000, gain: 1.0 / 1000, moxExponent: 0.6, noiseFloor: 0.002)),
            ChannelSpec(id: "gas_r", kind: .moxResistance, sensor: "Bosch BME688", unit: "ohm", rateHz: 1,
                        delaySeconds: 1.5, riseTauSeconds: 6, decayTauSeconds: 20, validMin: 1, validMax: 5e7,
                        calibration: Calibration(offset: 100_000, moxExponent: 0.5, noiseFloor: 0.003)),
            ChannelSpec(id: "pid", kind: .pid, sensor: "PID 10.6 eV", unit: "ppb", rateHz: 10,
                        delaySeconds: 1.0, riseTauSeconds: 0.5, decayTauSeconds: 1, validMin: -500, validMax: 2_000_000,
                        calibration: Calibration(noiseFloor: 2)),
            ChannelSpec(id: "nh3", kind: .electrochemical, sensor: "EC NH3", unit: "ppm", gas: "nh3", rateHz: 2,
                        delaySeconds: 1.2, riseTauSeconds: 20, decayTauSeconds: 30, validMin: -5, validMax: 100,
                        calibration: Calibration(noiseFloor: 0.05)),
            ChannelSpec(id: "h2s", kind: .electrochemical, sensor: "EC H2S", unit: "ppm", gas: "h2s", rateHz: 2,
                        delaySeconds: 1.2, riseTauSeconds: 10, decayTauSeconds: 15, validMin: -5, validMax: 100,
                        calibration: Calibration(noiseFloor: 0.02)),
            ChannelSpec(id: "co", kind: .electrochemical, sensor: "EC CO", unit: "ppm", gas: "co", rateHz: 2,
                        delaySeconds: 1.2, riseTauSeconds: 10, decayTauSeconds: 15, validMin: -10, validMax: 1000,
                        calibration: Calibration(noiseFloor: 0.1)),
            ChannelSpec(id: "temp", kind: .temperature, sensor: "Sensirion SHT4x", unit: "degC", rateHz: 1,
                        validMin: -40, validMax: 125),
            ChannelSpec(id: "rh", kind: .humidity, sensor: "Sensirion SHT4x", unit: "%", rateHz: 1,
                        validMin: 0, validMax: 100),
        ]
    }

    /// Typical white noise of the reference channels, physical units.
    public static let referenceNoise: [String: Double] = [
        "voc_raw": 0.002, "nox_raw": 0.002, "gas_r": 0.003, "pid": 2, "nh3": 0.05, "h2s": 0.02, "co": 0.1,
        "temp": 0.02, "rh": 0.1,
    ]

    /// A four-compound, three-class library for stage tests.
    public static func miniLibrary() -> SignatureLibrary {
        func r(_ v: Double) -> Response { Response(perPPM: v, source: "test fixture") }
        return SignatureLibrary(
            compounds: [
                Compound(id: "a", name: "aromatic ketone", responses: ["pid": r(900), "sraw_voc": r(0.8), "mox_resistance": r(0.6)]),
                Compound(id: "n", name: "ammonia", responses: ["ec_nh3": r(1), "sraw_voc": r(0.05), "mox_resistance": r(0.05), "pid": r(100)]),
                Compound(id: "s", name: "hydrogen sulphide", responses: ["ec_h2s": r(1), "ec_co": r(0.1), "sraw_voc": r(0.5), "mox_resistance": r(0.5), "pid": r(300)]),
                Compound(id: "c", name: "carbon monoxide", responses: ["ec_co": r(1), "sraw_voc": r(0.02), "mox_resistance": r(0.02)]),
            ],
            classes: [
                SignatureClass(id: "lab", name: "lab", isConfounder: false, components: [("a", 0.7), ("n", 0.3)]),
                SignatureClass(id: "manure", name: "manure", isConfounder: true, components: [("n", 0.8), ("s", 0.2)]),
                SignatureClass(id: "exhaust", name: "exhaust", isConfounder: true, components: [("c", 1)]),
            ])
    }
}
