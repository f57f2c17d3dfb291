import Foundation
import SnuffelConfig
import SnuffelCore
import Testing

@Suite("Signature library files")
struct SignatureLibraryTests {
    static let small = """
        [[compounds]]
        id = "ammonia"
        name = "Ammonia"
        responses.pid = { per_ppm = 103, source = "RAE TN-106: CF 9.7" }
        responses.ec_nh3 = { per_ppm = 1, source = "target gas" }

        [[compounds]]
        id = "h2s"
        responses.ec_h2s = { per_ppm = 1, source = "target gas" }

        [[classes]]
        id = "manure"
        name = "Manure"
        confounder = true
        components = { ammonia = 0.9, h2s = 0.1 }
        """

    @Test func smallLibraryParses() throws {
        let library = try SignatureLibrary.parse(text: Self.small, path: "sig.toml")
        #expect(library.compounds.map(\.id) == ["ammonia", "h2s"])
        #expect(library.compounds[0].responses["pid"] == Response(perPPM: 103, source: "RAE TN-106: CF 9.7"))
        #expect(library.compounds[1].name == "h2s")
        let manure = try #require(library.classes.first)
        #expect(manure.isConfounder)
        #expect(manure.components.map(\.compound) == ["ammonia", "h2s"])
        #expect(manure.components.map(\.fraction) == [0.9, 0.1])
    }

    @Test func classNamingAnUnknownCompoundIsRefused() {
        let text = Self.small.replacingOccurrences(of: "ammonia = 0.9", with: "amonia = 0.9")
        expectRefusal(
            refusal { try SignatureLibrary.parse(text: text, path: "sig.toml") }, file: "sig.toml",
            key: "classes.manure.components.amonia", reason: "unknown compound 'amonia'; did you mean 'ammonia'?")
    }

    @Test func classNamingAnUnknownCompoundIsReportedInTheLibraryFileWhenLoadedFromAPayload() throws {
        let directory = try scratchDirectory()
        defer { cleanUp(directory) }
        let libraryPath = directory + "/signatures.toml"
        try (Self.small.replacingOccurrences(of: "h2s = 0.1", with: "methane = 0.1")).write(toFile: libraryPath, atomically: true, encoding: .utf8)
        let text = payloadText(signatures: "signatures.toml")
        expectRefusal(
            refusal { try parsePayload(text, directory: directory) }, file: libraryPath,
            key: "classes.manure.components.methane", reason: "unknown compound 'methane'")
    }

    @Test func responsesNeedASourceAndAKnownKey() {
        let noSource = Self.small.replacingOccurrences(of: "{ per_ppm = 1, source = \"target gas\" }\n\n[[compounds]]", with: "{ per_ppm = 1 }\n\n[[compounds]]")
        expectRefusal(
            refusal { try SignatureLibrary.parse(text: noSource, path: "sig.toml") }, file: "sig.toml",
            key: "compounds.ammonia.responses.ec_nh3.source", reason: "missing required key 'source'")
        let badKey = Self.small.replacingOccurrences(of: "responses.pid", with: "responses.pdi")
        expectRefusal(
            refusal { try SignatureLibrary.parse(text: badKey, path: "sig.toml") }, file: "sig.toml",
            key: "compounds.ammonia.responses.pdi", reason: "unknown response key 'pdi'; did you mean 'pid'?")
        let infinite = Self.small.replacingOccurrences(of: "per_ppm = 103", with: "per_ppm = inf")
        expectRefusal(
            refusal { try SignatureLibrary.parse(text: infinite, path: "sig.toml") }, file: "sig.toml",
            key: "compounds.ammonia.responses.pid.per_ppm", reason: "must be a finite number, got inf")
    }

    @Test func classesStateWhetherTheyAreConfounders() {
        let text = Self.small.replacingOccurrences(of: "confounder = true\n", with: "")
        expectRefusal(
            refusal { try SignatureLibrary.parse(text: text, path: "sig.toml") }, file: "sig.toml",
            key: "classes.manure.confounder", reason: "missing required key 'confounder'")
    }

    @Test func duplicateCompoundAndNonPositiveFractionAreRefused() {
        let duplicate = Self.small.replacingOccurrences(of: "id = \"h2s\"", with: "id = \"ammonia\"")
        expectRefusal(
            refusal { try SignatureLibrary.parse(text: duplicate, path: "sig.toml") }, file: "sig.toml",
            key: "compounds[1].id", reason: "duplicate compound id 'ammonia' (compounds[0] has it too)")
        let zero = Self.small.replacingOccurrences(of: "h2s = 0.1", with: "h2s = 0")
        expectRefusal(
            refusal { try SignatureLibrary.parse(text: zero, path: "sig.toml") }, file: "sig.toml",
            key: "classes.manure.components.h2s", reason: "a mole fraction must be positive, got 0.0")
    }
}
