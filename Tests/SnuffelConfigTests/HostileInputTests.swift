import Foundation
import SnuffelConfig
import SnuffelCore
import Testing

/// Garbage must be refused with a message, never crash the loader.
@Suite("Hostile input")
struct HostileInputTests {
    @Test func nonUTF8IsRefusedWithItsPosition() throws {
        let directory = try scratchDirectory()
        defer { cleanUp(directory) }
        let path = directory + "/payload.toml"
        var bytes = Array(payloadText().utf8)
        bytes.insert(contentsOf: [0xC3, 0x28], at: 20)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = try #require(refusal { try PayloadConfiguration.load(path: path) })
        #expect(error.file == path)
        #expect(error.line == 1 && error.column == 21)
        #expect(error.reason.contains("not valid UTF-8"))
    }

    @Test func nulByteIsRefused() throws {
        let error = try #require(refusal { try parsePayload("name = \"a\u{0}b\"\n") })
        #expect(error.reason.contains("NUL"))
        #expect(error.line == 1)
    }

    @Test func directoryAndHugeFilesAreRefused() throws {
        let directory = try scratchDirectory()
        defer { cleanUp(directory) }
        let asDirectory = refusal { try PayloadConfiguration.load(path: directory) }
        #expect(asDirectory?.reason == "is a directory, not a file")
        let huge = directory + "/huge.toml"
        try Data(repeating: UInt8(ascii: "#"), count: (4 << 20) + 10).write(to: URL(fileURLWithPath: huge))
        #expect(refusal { try PayloadConfiguration.load(path: huge) }?.reason.contains("larger than") == true)
    }

    @Test func hostileDocumentsAreRefusedNotCrashed() {
        let deepArray = "x = " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        let deepTable = "x = " + String(repeating: "{a=", count: 3000) + "1" + String(repeating: "}", count: 3000)
        let longHeader = "[" + Array(repeating: "a", count: 5000).joined(separator: ".") + "]\nb = 1"
        let documents = [
            "", "[[[", "= 1", deepArray, deepTable, longHeader,
            "signatures = 99999999999999999999999",
            payloadText(extra: "[detection]\nhit_on_sigma = nan"),
            payloadText(extra: "[detection]\nhit_on_sigma = 1e999"),
            payloadText(extra: "[detection]\nmin_channels = -9223372036854775808"),
            payloadText(channels: "channels = [1, 2]"),
            payloadText(channels: "channels = \"none\""),
            payloadText(channels: "[[channels]]\nid = \"\(String(repeating: "x", count: 10_000))\""),
            payloadText(channels: "[[channels]]\nid = \"pid\"\nkind = \"pid\"\nrate_hz = 1e308\ncalibration = {}"),
            payloadText(channels: "[[channels]]\nid = \"pid\"\nkind = \"pid\"\nrate_hz = 1\nvalid_min = -inf\ncalibration = {}"),
            payloadText(channels: "[[channels]]\nid = \"pid\"\nkind = \"pid\"\nrate_hz = 1\ncalibration = 2026-01-01"),
            "[payload]\nname = \"x\"\n\"\\u0000weird\" = 1",
        ]
        for document in documents {
            let error = refusal { try parsePayload(document) }
            #expect(error != nil, "accepted: \(document.prefix(80))")
            #expect(error?.description.isEmpty == false)
        }
    }

    @Test func escapedNULIsRefused() {
        for document in ["signatures = \"a\\u0000b\"", "[payload]\nname = \"\"\"x\\U00000000\"\"\"", "[\"a\\u0000\"]"] {
            let error = refusal { try parsePayload(document) }
            #expect(error?.reason == "a string or key may not contain a NUL character", "\(document.debugDescription)")
            #expect(error?.line != nil)
        }
    }

    @Test func extremeIntegersAreHandled() throws {
        let configuration = try parsePayload(payloadText(extra: "[detection]\nmin_channels = 9223372036854775807"))
        #expect(configuration.pipeline.detection.minChannels == Int.max)
    }

    /// toml++ 3.4.0 aborts (debug) or misbehaves (release) on these; the loader must refuse
    /// them before they reach it (marzer/tomlplusplus #294, #301; the date-time found by fuzzing).
    @Test func parserHazardsAreRefusedBeforeTheParser() {
        let documents = [
            "[[[", "[[[1]]]", "[&", "[\n", "[ #x]", "[[=", "[[ !a]]", "a = 1\n  [\u{00A0}x]", "[payload]\n[[\n",
            "\u{FEFF}[[\u{FFFD}]]", "kfs =1979-05-27T:3:32:00Z", "x = [1979-05-27tZ]",
            "id = [}[c]]", "x = [1,\n}]", "x = [\u{2028}1]", "x = [\u{85}]",
        ]
        for document in documents {
            let error = refusal { try parsePayload(document) }
            #expect(error?.reason.hasPrefix("TOML syntax error") == true, "\(document.debugDescription): \(String(describing: error))")
            #expect(error?.line != nil)
        }
    }

    @Test func arraysOnTheirOwnLinesAreNotMistakenForHeaders() {
        let text = """
            x = [
              [[1]],
              [ +1 ],
              [ {a = 1} ],
              \"\"\"
            [[[\"\"\",
              '''
            [&''',
            ] # [[[
            y = 1
            """
        expectRefusal(refusal { try parsePayload(text) }, file: "payload.toml", key: "x", reason: "unknown key 'x'")
    }

    @Test func hugeButFiniteValuesReachTheRangeChecks() {
        let text = payloadText(channels: "[[channels]]\nid = \"pid\"\nkind = \"pid\"\nrate_hz = 1e308\ncalibration = {}")
        expectRefusal(
            refusal { try parsePayload(text) }, file: "payload.toml", key: "channels.pid.rate_hz", reason: "must be in (0, 10000] Hz")
    }

    @Test func nonFiniteNumbersAreRefused() {
        expectRefusal(
            refusal { try parsePayload(payloadText(extra: "[detection]\nhit_on_sigma = nan")) },
            file: "payload.toml", key: "detection.hit_on_sigma", reason: "must be a finite number, got nan")
    }
}
