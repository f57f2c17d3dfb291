import Foundation
import SnuffelConfig
import SnuffelCore
import Testing

@Suite("Shipped configuration files")
struct ShippedFilesTests {
    @Test("the example documents every [detection] key with the default the code uses")
    func detectionDefaultsDocumented() throws {
        let text = try String(contentsOfFile: examplePayloadPath, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "[detection]\n").last)
        var documented: [String: Double] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("# ") && line.contains(" = ") {
            let body = line.dropFirst(2)
            let parts = body.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].split(separator: "#").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if let v = Double(value) { documented[key] = v }
        }
        let defaults = DetectionSettings()
        for (key, path, _) in DetectionSettings.numericKeys {
            let v = try #require(documented[key], "\(key) is not documented in the example's [detection] section")
            #expect(v == defaults[keyPath: path], "\(key): the example says \(v), the code uses \(defaults[keyPath: path])")
        }
        #expect(documented["min_channels"] == Double(defaults.minChannels))
        #expect(Set(documented.keys) == Set(DetectionSettings.numericKeys.map(\.key) + ["min_channels"]))
    }

    @Test func examplePayloadLoadsAndValidates() throws {
        let configuration = try PayloadConfiguration.load(path: examplePayloadPath)
        let channels = configuration.pipeline.channels
        #expect(channels.map(\.id) == ["voc_raw", "nox_raw", "gas_r", "pid", "nh3", "h2s", "co", "temp", "rh"])
        #expect(channels.map(\.kind) == [
            .srawVOC, .srawNOx, .moxResistance, .pid, .electrochemical, .electrochemical, .electrochemical,
            .temperature, .humidity,
        ])
        #expect(channels.filter { $0.kind == .electrochemical }.map(\.gas) == ["nh3", "h2s", "co"])
        #expect(channels.filter(\.kind.isGas).map(\.responseKey) == [
            "sraw_voc", "sraw_nox", "mox_resistance", "pid", "ec_nh3", "ec_h2s", "ec_co",
        ])
        #expect(configuration.pipeline.validationError() == nil)
        #expect(configuration.pipeline.detection == DetectionSettings())
        #expect(configuration.payload.name == "snuffel-reference")
        #expect(!configuration.payload.description.isEmpty)
        #expect(configuration.payloadFile.path == examplePayloadPath)
        #expect(configuration.signaturesFile.path.hasSuffix("calibration/signatures.toml"))
        #expect(!configuration.signaturesFile.path.contains(".."))
        #expect(configuration.calibrationFiles.isEmpty)

        let sgp = try #require(channels.first)
        #expect(sgp.rateHz == 1 && sgp.validMin == 0 && sgp.validMax == 65535)
        #expect(sgp.calibration.offset == 30000)
        let pid = channels[3]
        #expect(pid.rateHz == 10 && pid.riseTauSeconds == 0.5)
        let bme = channels[2]
        #expect(bme.calibration.offset == 100_000)
    }

    @Test func shippedLibraryLoadsAndValidates() throws {
        let library = try SignatureLibrary.load(path: shippedLibraryPath)
        #expect(library.validationError() == nil)
        #expect(library.compounds.count >= 14)
        let ids = Set(library.compounds.map(\.id))
        for id in [
            "pmk", "bmk", "safrole", "methylamine", "formamide", "formic_acid", "ammonia", "acetone", "methanol",
            "isopropanol", "toluene", "h2s", "co", "no2",
        ] {
            #expect(ids.contains(id), "missing compound \(id)")
        }
        for compound in library.compounds {
            #expect(compound.responses["pid"] != nil, "\(compound.id) has no PID response")
            for (key, response) in compound.responses {
                #expect(!response.source.isEmpty, "\(compound.id).\(key) has no source")
            }
        }
        #expect(library.classes.count == 7)
        #expect(Set(library.classes.map(\.id)) == [
            "mdma-synthesis", "amphetamine-synthesis", "drug-waste", "manure", "exhaust", "solvent", "smoke",
        ])
        #expect(Set(library.classes.filter(\.isConfounder).map(\.id)) == ["manure", "exhaust", "solvent", "smoke"])
    }

    @Test func publishedPIDFactorsAreEnteredAsThousandOverCF() throws {
        let library = try SignatureLibrary.load(path: shippedLibraryPath)
        func pid(_ id: String) -> Double? {
            library.compounds.first { $0.id == id }?.responses["pid"]?.perPPM
        }
        // RAE TN-106, 10.6 eV lamp.
        let factors: [(String, Double)] = [("acetone", 1.1), ("isopropanol", 6.0), ("toluene", 0.5), ("ammonia", 9.7), ("h2s", 3.3), ("no2", 16)]
        for (id, cf) in factors {
            let value = try #require(pid(id))
            #expect(abs(value - 1000 / cf) <= 0.01 * 1000 / cf, "\(id): \(value) ppb/ppm against CF \(cf)")
        }
        for id in ["methanol", "formic_acid", "co"] { #expect(pid(id) == 0) }
    }

    @Test func exampleChannelsCarryTheirLibraryResponses() throws {
        let configuration = try PayloadConfiguration.load(path: examplePayloadPath)
        let library = configuration.pipeline.library
        for channel in configuration.pipeline.channels where channel.kind.isGas {
            #expect(library.compounds.contains { $0.responses[channel.responseKey] != nil }, "\(channel.id)")
        }
    }
}
