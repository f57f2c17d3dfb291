import BridgeProtocol
import SnuffelCore

/// Turns a bridge's sample blocks into the pipeline's ``Sample``s.
///
/// Each bridge channel (ADC input) is mapped to a channel index of the payload; the
/// bridge's µs clock is moved onto the receiver's clock by a fixed offset. A sample's
/// value is the raw ADC count (calibration converts it, as for any raw channel), its
/// status the block's ``BridgeSampleFlags`` bits. A conversion that timed out
/// (``BridgeSampleFlags/conversionTimeout`` and the value 0xFFFF) becomes NaN, which the
/// pipeline rejects and counts rather than taking 65,535 for a reading.
public struct BridgeSampleMapping: Sendable, Equatable {
    /// For bridge channel *i*, the payload channel index its samples get; nil (or *i*
    /// past the end) drops the channel's samples.
    public var channels: [UInt16?]
    /// Added to the bridge's time (µs) to give the receiver's time (µs).
    public var timeOffset: Int64

    /// Creates a mapping.
    ///
    /// - Parameters:
    ///   - channels: The payload channel index of each bridge channel, nil to drop it.
    ///   - timeOffset: µs added to the bridge's clock.
    public init(channels: [UInt16?], timeOffset: Int64 = 0) {
        self.channels = channels
        self.timeOffset = timeOffset
    }

    /// Appends the block's samples, scan by scan in ascending channel order.
    ///
    /// - Parameters:
    ///   - block: The block.
    ///   - time: The frame's time: the bridge's time of the first scan, µs.
    ///   - samples: Receives the samples.
    /// - Returns: The number of values dropped because their channel is not mapped.
    /// - Complexity: O(*n*) in the block's values.
    @discardableResult
    public func append(
        _ block: BridgeSampleBlock, time: UInt64, to samples: inout [Sample]
    ) -> Int {
        var dropped = 0
        let status = block.flags.rawValue
        let timedOut = block.flags.contains(.conversionTimeout)
        var index = 0
        for scan in 0..<block.scanCount {
            let scanTime = time &+ UInt64(scan) &* UInt64(block.intervalMicroseconds) &+ UInt64(bitPattern: timeOffset)
            for bridgeChannel in 0..<BridgeWire.maximumChannelCount
            where block.channelMask & (1 << UInt16(bridgeChannel)) != 0 {
                let raw = block.values[index]
                index += 1
                guard bridgeChannel < channels.count, let channel = channels[bridgeChannel] else {
                    dropped += 1
                    continue
                }
                let value = timedOut && raw == 0xFFFF ? Double.nan : Double(raw)
                samples.append(Sample(channel: channel, time: scanTime, value: value, status: status))
            }
        }
        return dropped
    }
}
