import SnuffelCore
import Testing

@testable import SnuffelWire

@Suite("CSV writer")
struct CSVWriterTests {
    let channels = [
        ChannelSpec(id: "voc_raw", kind: .srawVOC), ChannelSpec(id: "pid", kind: .pid),
        ChannelSpec(id: "nh3", kind: .electrochemical, gas: "nh3"), ChannelSpec(id: "rh", kind: .humidity),
    ]

    @Test("what the writer writes, the reader reads back: samples, empty cells and positions")
    func roundTrip() throws {
        let writer = CSVSampleWriter(channels: channels, hasPosition: true)
        var text = "# written by a test\n" + writer.header
        text += writer.row(time: 1_000_000, samples: [Sample(channel: 0, time: 1_000_000, value: 30_123.4),
                                                     Sample(channel: 1, time: 1_000_000, value: -2.345)],
                           position: (52.0907123, -5.1214567, -3.456))
        text += writer.row(time: 1_100_000, samples: [Sample(channel: 2, time: 1_100_000, value: 0.00004),
                                                     Sample(channel: 3, time: 1_100_000, value: 61.237)])
        var reader = CSVSampleReader(channelIDs: channels.map(\.id), bytes: Array(text.utf8))
        let first = try #require(try reader.next())
        #expect(first.time == 1_000_000)
        #expect(first.samples.map(\.value) == [30_123, -2.35])  // ticks as integers, PID with 2 decimals
        #expect(first.latitude == 52.0907123)
        #expect(first.longitude == -5.1214567)
        #expect(first.altitude == -3.46)
        let second = try #require(try reader.next())
        #expect(second.samples.map(\.channel) == [2, 3])
        #expect(second.samples.map(\.value) == [0, 61.24])
        #expect(second.latitude == nil && second.longitude == nil && second.altitude == nil)
        #expect(try reader.next() == nil)
    }

    @Test("plain decimals, never exponents, with the sign kept", arguments: [
        (0.00004, 4, "0.0000"), (-0.00004, 4, "0.0000"), (-1.5, 1, "-1.5"), (1e-7, 7, "0.0000001"),
        (123456789.125, 2, "123456789.13"), (-0.05, 2, "-0.05"), (7, 0, "7"),
    ])
    func decimals(value: Double, places: Int, expected: String) {
        #expect(CSVSampleWriter.decimal(value, places: places) == expected)
    }
}
