import BridgeProtocol
import SnuffelCore
import SnuffelWire
import Testing

@Suite("Bridge samples to pipeline samples")
struct SampleMappingTests {
    @Test("each value becomes a Sample with the payload channel, the scan's time, the raw value and the block's flags")
    func mapping() {
        let block = BridgeSampleBlock(
            channelMask: 0b1010_0101, intervalMicroseconds: 2_500, flags: .testSignal,
            values: [10, 20, 30, 40, 11, 21, 31, 41])
        let mapping = BridgeSampleMapping(channels: [4, nil, 5, nil, nil, 6], timeOffset: 1_000_000)
        var samples: [Sample] = []
        let dropped = mapping.append(block, time: 7_000, to: &samples)
        // Channel 7 has no mapping (past the end): its two values are dropped.
        #expect(dropped == 2)
        let status = BridgeSampleFlags.testSignal.rawValue
        #expect(samples == [
            Sample(channel: 4, time: 1_007_000, value: 10, status: status),
            Sample(channel: 5, time: 1_007_000, value: 20, status: status),
            Sample(channel: 6, time: 1_007_000, value: 30, status: status),
            Sample(channel: 4, time: 1_009_500, value: 11, status: status),
            Sample(channel: 5, time: 1_009_500, value: 21, status: status),
            Sample(channel: 6, time: 1_009_500, value: 31, status: status),
        ])
    }

    @Test("a timed-out conversion becomes NaN, which the pipeline rejects instead of reading 65535")
    func timeout() {
        let block = BridgeSampleBlock(
            channelMask: 0b11, intervalMicroseconds: 1000, flags: .conversionTimeout, values: [0xFFFF, 123])
        var samples: [Sample] = []
        BridgeSampleMapping(channels: [0, 1], timeOffset: -500).append(block, time: 1_000, to: &samples)
        #expect(samples.count == 2)
        #expect(samples[0].value.isNaN)
        #expect(samples[0].time == 500)
        #expect(samples[1].value == 123)
        #expect(samples[1].status == BridgeSampleFlags.conversionTimeout.rawValue)
    }

    @Test("the documented example frame maps to four samples")
    func example() throws {
        guard case .samples(let block) = BridgeExamples.all[0].frame.message else {
            Issue.record("example 0 is not a sample block")
            return
        }
        var samples: [Sample] = []
        BridgeSampleMapping(channels: [2, 3]).append(block, time: BridgeExamples.all[0].frame.time, to: &samples)
        #expect(samples.map(\.channel) == [2, 3, 2, 3])
        #expect(samples.map(\.time) == [1_000_000, 1_000_000, 1_010_000, 1_010_000])
        #expect(samples.map(\.value) == [256, 512, 257, 513])
    }
}
