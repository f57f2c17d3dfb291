import Foundation
import Testing
import SnuffelConfig
import SnuffelCore
import SnuffelTestSupport
import SnuffelWire

@Suite("The bundled sample flight")
struct SampleFlightTests {
    let path = repositoryRoot + "/flightlogs/sample-core.csv"

    @Test("is what the generator makes (regenerate with SNUFFEL_WRITE_SAMPLE=1)")
    func upToDate() throws {
        let config = try shippedConfiguration()
        let channels = config.pipeline.channels
        let samples = SampleFlight.stream(channels: channels, library: config.pipeline.library).samples(seed: SampleFlight.seed)
        let text = SampleFlight.csv(samples, channels: channels)
        if ProcessInfo.processInfo.environment["SNUFFEL_WRITE_SAMPLE"] == "1" {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        // Compare values, not bytes: libm may differ in the last bit between machines.
        let fromFile = try readSamples(channels: channels)
        try #require(fromFile.count == samples.count, "the sample is stale: run SNUFFEL_WRITE_SAMPLE=1 swift test --filter SampleFlight")
        for (a, b) in zip(fromFile, samples) {
            #expect(a.channel == b.channel && a.time == b.time)
            #expect(abs(a.value - b.value) <= max(0.51, abs(b.value) * 1e-9), "\(a) vs \(b)")
        }
    }

    @Test("replays to one detection per plume, of the right kind, with alerts only for the lab and the dump")
    func detections() throws {
        let config = try shippedConfiguration()
        let library = config.pipeline.library
        let pipeline = try Pipeline(configuration: config.pipeline)
        pipeline.process(try readSamples(channels: config.pipeline.channels))
        pipeline.finish()
        let detections = pipeline.drainDetections()
        try #require(detections.count == SampleFlight.plumes.count, "\(detections.count) detections")
        var right = 0
        for (d, plume) in zip(detections, SampleFlight.plumes) {
            let onset = Double(d.onset - SampleFlight.startTime) / 1e6
            #expect(abs(onset - plume.start) < 6, "onset \(onset) for the plume at \(plume.start)")
            if d.signatureClass.map({ library.classes[$0].id }) == plume.signatureClass { right += 1 }
            let lab = !(library.classes.first { $0.id == plume.signatureClass }?.isConfounder ?? true)
            #expect(d.isAlert == lab, "\(plume.signatureClass): alert \(d.isAlert)")
        }
        #expect(right >= SampleFlight.plumes.count - 1)
        #expect(pipeline.health.humidityArtefacts <= 1)
    }

    func readSamples(channels: [ChannelSpec]) throws -> [Sample] {
        var reader = try CSVSampleReader(channelIDs: channels.map(\.id), contentsOfFile: path)
        var out: [Sample] = []
        while let row = try reader.next() { out.append(contentsOf: row.samples) }
        return out
    }
}
