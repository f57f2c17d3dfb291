import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelOnboard
import SnuffelTestSupport
import SnuffelWire
import Testing

@Suite("Messages to the ground station")
struct GroundStationMessagesTests {
    let repositoryRoot: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    func configuration() throws -> PayloadConfiguration {
        try PayloadConfiguration.load(path: repositoryRoot + "/deploy/payload.example.toml")
    }

    func detection(_ library: SignatureLibrary, cls: String, confidence: Double, threat: Double, alert: Bool) -> Detection {
        let index = library.classes.firstIndex { $0.id == cls }
        return Detection(sequence: 4, onset: 0, peak: 1, end: 2, channels: [], signatureClass: index, confidence: confidence,
                         threatConfidence: threat, isConfounder: index.map { library.classes[$0].isConfounder } ?? false,
                         isAlert: alert, compounds: [], scores: [], residual: 0.1, snr: 40)
    }

    @Test("a likely lab is CRITICAL, a doubtful alert a WARNING, a confounder INFO; texts fit one frame")
    func severityAndText() throws {
        let config = try configuration()
        let library = config.pipeline.library
        let messages = GroundStationMessages(channels: config.pipeline.channels, library: library)
        let lab = detection(library, cls: "mdma-synthesis", confidence: 0.7, threat: 0.87, alert: true)
        let doubtful = detection(library, cls: "drug-waste", confidence: 0.5, threat: 0.65, alert: true)
        let manure = detection(library, cls: "manure", confidence: 0.9, threat: 0.02, alert: false)
        #expect(messages.severity(of: lab) == .critical)
        #expect(messages.severity(of: doubtful) == .warning)
        #expect(messages.severity(of: manure) == .info)
        let text = messages.text(of: lab, position: (51.449495, 5.478522))
        #expect(text == "LAB? mdma-synthesis p0.87 51.44950,5.47852")
        #expect(messages.text(of: manure) == "smell manure (confounder) 0.90")
        var encoder = MAVLinkEncoder(systemID: 1)
        let frames = messages.frames(for: lab, position: (51.449495, 5.478522), encoder: &encoder)
        #expect(frames.count == 1)
        var decoder = MAVLinkFrameDecoder()
        decoder.append(contentsOf: frames[0])
        decoder.finish()
        let next = decoder.next()
        let frame = try #require(next)
        #expect(frame.messageID == 253 && frame.payload[0] == GroundStationMessages.Severity.critical.rawValue)
    }

    @Test("live values: VOC and NOx index, PID excess and the largest signal, names of at most 10 characters")
    func liveValues() throws {
        let config = try configuration()
        let messages = GroundStationMessages(channels: config.pipeline.channels, library: config.pipeline.library)
        let pipeline = try Pipeline(configuration: config.pipeline)
        #expect(messages.liveValues(pipeline).isEmpty, "values before any sample")
        let stream = SampleFlight.stream(channels: config.pipeline.channels, library: config.pipeline.library)
        let samples = stream.samples(seed: 5).prefix(3000)
        pipeline.process(samples)
        let values = messages.liveValues(pipeline)
        let names = values.map(\.name)
        #expect(names.contains("VOCIDX") && names.contains("NOXIDX") && names.contains("PID_PPB") && names.contains("MAXSIGMA"), "\(names)")
        #expect(names.allSatisfy { $0.utf8.count <= 10 })
        #expect(values.first { $0.name == "VOCIDX" }.map { $0.value >= 0 && $0.value <= 500 } == true)
    }
}
