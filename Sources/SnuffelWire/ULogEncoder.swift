import SnuffelCore

/// Encodes a Snuffel ULog file into bytes in memory; ``ULogFileWriter`` puts them in a
/// file block by block.
///
/// The encoder writes the header and the definitions when it is created: the flag bits,
/// a format ('F') and a subscription ('A') for each Snuffel topic, `sys_name` =
/// `Snuffel`, the channel ids as the multi-info `snuffel_channel_ids` (one message per
/// channel, in index order) and the payload and signature configurations as multi-info
/// `snuffel_payload_toml` and `snuffel_signatures_toml` (split into continued messages of
/// at most ``textChunkSize`` bytes, at character boundaries). After that each `append`
/// adds one data message (a detection adds one per channel, compound and score too), and
/// a sync message ('S') goes before the first data message after every ``syncInterval``
/// bytes.
///
/// Appending a sample, pose, wind, clock or health record does not allocate while the
/// capacity of ``bytes`` lasts; take the bytes with ``takeBytes()`` or ``removeAll()`` to
/// keep memory bounded.
public struct ULogEncoder: Sendable {
    /// The most bytes of text in one info or multi-info message: 1 KiB.
    public static let textChunkSize = 1024
    /// The default of ``syncInterval``: 16 KiB.
    public static let defaultSyncInterval = 16 * 1024
    /// The most bytes of a logged text; longer texts are cut at a character boundary.
    static let maximumTextLength = 60_000

    /// The encoded bytes not yet taken.
    public private(set) var bytes: [UInt8] = []
    /// All bytes encoded so far, taken or not.
    public private(set) var totalByteCount = 0
    /// The bytes between sync messages (at least).
    public var syncInterval: Int
    var bytesSinceSync = 0

    /// Creates an encoder and encodes the header and definitions.
    ///
    /// - Parameters:
    ///   - startTime: The log's start time, µs on its clock.
    ///   - channelIDs: The payload's channel ids, in channel-index order.
    ///   - payloadTOML: The payload configuration file's text, if any.
    ///   - signaturesTOML: The signature library file's text, if any.
    ///   - calibrationTOML: The per-unit calibration files' texts, by channel id, written
    ///     as multi-info `snuffel_calibration_toml_<channel id>`.
    ///   - info: More info messages, written as `char[N]` strings. Keys are at most 200
    ///     bytes; values longer than 60,000 bytes are cut.
    ///   - capacity: Bytes to reserve for ``bytes``.
    ///   - syncInterval: The bytes between sync messages.
    public init(
        startTime: UInt64, channelIDs: [String], payloadTOML: String? = nil, signaturesTOML: String? = nil,
        calibrationTOML: [(channelID: String, text: String)] = [], info: [(key: String, value: String)] = [], capacity: Int = 128 * 1024,
        syncInterval: Int = ULogEncoder.defaultSyncInterval
    ) {
        self.syncInterval = max(1, syncInterval)
        bytes.reserveCapacity(capacity)
        bytes.append(contentsOf: ULog.magic)
        bytes.append(ULog.version)
        put(startTime)
        // Flag bits: no compat or incompat flags, no appended data.
        beginMessage(ULog.MessageType.flagBits, size: ULog.flagBitsSize)
        bytes.append(contentsOf: repeatElement(0, count: ULog.flagBitsSize))
        appendInfo(key: SnuffelLogKey.systemName, value: "Snuffel")
        for (key, value) in info { appendInfo(key: key, value: value) }
        for topic in SnuffelTopic.allCases {
            let text = Array(topic.formatText.utf8)
            beginMessage(ULog.MessageType.format, size: text.count)
            bytes.append(contentsOf: text)
        }
        for id in channelIDs { appendMultiInfo(key: SnuffelLogKey.channelIDs, value: id) }
        if let payloadTOML { appendMultiInfo(key: SnuffelLogKey.payloadTOML, value: payloadTOML) }
        if let signaturesTOML { appendMultiInfo(key: SnuffelLogKey.signaturesTOML, value: signaturesTOML) }
        for (id, text) in calibrationTOML { appendMultiInfo(key: SnuffelLogKey.calibrationTOMLPrefix + id, value: text) }
        for topic in SnuffelTopic.allCases {
            let name = Array(topic.name.utf8)
            beginMessage(ULog.MessageType.addLogged, size: 3 + name.count)
            bytes.append(0)  // multi id
            put(topic.rawValue)
            bytes.append(contentsOf: name)
        }
        totalByteCount = bytes.count
    }

    /// Hands out the encoded bytes and empties ``bytes``, keeping its capacity reserved
    /// in the encoder.
    /// - Complexity: O(*n*) in the bytes taken.
    public mutating func takeBytes() -> [UInt8] {
        let taken = bytes
        bytes.removeAll(keepingCapacity: true)
        return taken
    }

    /// Drops the encoded bytes (after they were written elsewhere), keeping the capacity.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Encodes an info message ('I') with a `char[N]` value.
    ///
    /// - Parameters:
    ///   - key: The key's name, at most 200 bytes of UTF-8.
    ///   - value: The value; more than 60,000 bytes are cut at a character boundary
    ///     (use ``appendMultiInfo(key:value:)`` for long texts).
    public mutating func appendInfo(key: String, value: String) {
        let text = Self.cut(Array(value.utf8), to: Self.maximumTextLength)
        let keyText = Array("char[\(text.count)] \(key)".utf8)
        precondition(keyText.count <= 255, "ULogEncoder: info key longer than 200 bytes")
        beginMessage(ULog.MessageType.info, size: 1 + keyText.count + text.count)
        bytes.append(UInt8(keyText.count))
        bytes.append(contentsOf: keyText)
        bytes.append(contentsOf: text)
    }

    /// Encodes a multi-info value ('M'): the first message starts a new value, the rest
    /// continue it; each holds at most ``textChunkSize`` bytes, cut at character
    /// boundaries so that each part is valid UTF-8.
    ///
    /// - Parameters:
    ///   - key: The key's name, at most 200 bytes of UTF-8.
    ///   - value: The text, of any length.
    public mutating func appendMultiInfo(key: String, value: String) {
        let text = Array(value.utf8)
        var start = 0
        repeat {
            var end = min(text.count, start + Self.textChunkSize)
            // Do not split a character: move back over continuation bytes.
            while end < text.count && end > start + 4 && text[end] & 0xC0 == 0x80 { end -= 1 }
            let part = text[start..<end]
            let keyText = Array("char[\(part.count)] \(key)".utf8)
            precondition(keyText.count <= 255, "ULogEncoder: info key longer than 200 bytes")
            beginMessage(ULog.MessageType.multiInfo, size: 2 + keyText.count + part.count)
            bytes.append(start == 0 ? 0 : 1)
            bytes.append(UInt8(keyText.count))
            bytes.append(contentsOf: keyText)
            bytes.append(contentsOf: part)
            start = end
        } while start < text.count
    }

    /// Encodes a raw sample (`snuffel_sample`).
    /// - Complexity: O(1); no allocation while ``bytes`` has capacity.
    public mutating func append(_ sample: Sample) {
        beginData(.sample)
        put(sample.time)
        put(sample.channel)
        put(sample.status)
        put(sample.value.bitPattern)
    }

    /// Encodes a pose (`snuffel_pose`).
    public mutating func append(_ pose: ULogPose) {
        beginData(.pose)
        put(pose.time)
        put(pose.latitude.bitPattern)
        put(pose.longitude.bitPattern)
        put(pose.altitude.bitPattern)
        put(pose.roll.bitPattern)
        put(pose.pitch.bitPattern)
        put(pose.yaw.bitPattern)
        put(pose.velocityNorth.bitPattern)
        put(pose.velocityEast.bitPattern)
        put(pose.velocityDown.bitPattern)
        put(pose.gpsTime)
    }

    /// Encodes a wind estimate (`snuffel_wind`).
    public mutating func append(_ wind: ULogWind) {
        beginData(.wind)
        put(wind.time)
        put(wind.north.bitPattern)
        put(wind.east.bitPattern)
        put(wind.down.bitPattern)
    }

    /// Encodes an evidence sample taken (`snuffel_tube`).
    public mutating func append(_ tube: ULogTube) {
        beginData(.tube)
        put(tube.end)
        put(tube.start)
        put(tube.end)
        put(tube.latitude.bitPattern)
        put(tube.longitude.bitPattern)
        put(tube.altitude.bitPattern)
        put(UInt32(bitPattern: tube.detection.map { Int32(clamping: $0) } ?? -1))
        put(tube.tube)
        put(tube.reason.rawValue)
        put(UInt8(tube.isComplete ? 1 : 0))
    }

    /// Encodes a clock pair (`snuffel_clock`).
    public mutating func append(_ clock: ULogClock) {
        beginData(.clock)
        put(clock.time)
        put(clock.utc)
    }

    /// Encodes the pipeline's counters (`snuffel_health`) at a time.
    public mutating func append(health: PipelineHealth, time: UInt64) {
        beginData(.health)
        put(time)
        // In the order of ULogHealthField.names.
        put(UInt64(clamping: health.accepted))
        put(UInt64(clamping: health.unknownChannel))
        put(UInt64(clamping: health.nonFinite))
        put(UInt64(clamping: health.outOfRange))
        put(UInt64(clamping: health.outOfOrder))
        put(UInt64(clamping: health.duplicate))
        put(UInt64(clamping: health.gaps))
        put(UInt64(clamping: health.unconfirmedHits))
        put(UInt64(clamping: health.truncatedEvents))
        put(UInt64(clamping: health.humidityArtefacts))
        put(UInt64(clamping: health.historyOverruns))
    }

    /// Encodes a text message ('L', or 'C' when it has a tag). Texts longer than 60,000
    /// bytes are cut at a character boundary.
    public mutating func append(_ message: ULogLogMessage) {
        let text = Self.cut(Array(message.text.utf8), to: Self.maximumTextLength)
        if let tag = message.tag {
            beginMessage(ULog.MessageType.taggedLogging, size: 11 + text.count)
            bytes.append(message.level)
            put(tag)
        } else {
            beginMessage(ULog.MessageType.logging, size: 9 + text.count)
            bytes.append(message.level)
        }
        put(message.time)
        bytes.append(contentsOf: text)
    }

    /// Encodes a detection (`snuffel_detection`, timestamp = onset), then one message
    /// per channel, compound and class score, keyed by the detection's sequence. Real
    /// numbers are logged as `float`; at most 65,535 parts of each kind are logged.
    public mutating func append(_ detection: Detection) {
        let sequence = UInt32(clamping: detection.sequence)
        let channels = detection.channels.prefix(Int(UInt16.max))
        let compounds = detection.compounds.prefix(Int(UInt16.max))
        let scores = detection.scores.prefix(Int(UInt16.max))
        beginData(.detection)
        put(detection.onset)
        put(detection.onset)
        put(detection.peak)
        put(detection.end)
        put(sequence)
        put(UInt16(bitPattern: detection.signatureClass.map { Int16(clamping: $0) } ?? -1))
        put(Float(detection.confidence).bitPattern)
        put(Float(detection.threatConfidence).bitPattern)
        put(Float(detection.residual).bitPattern)
        put(Float(detection.snr).bitPattern)
        put(UInt16(channels.count))
        put(UInt16(compounds.count))
        put(UInt16(scores.count))
        bytes.append(detection.isAlert ? 1 : 0)
        bytes.append(detection.isConfounder ? 1 : 0)
        for channel in channels {
            beginData(.detectionChannel)
            put(detection.onset)
            put(sequence)
            put(UInt16(clamping: channel.channel))
            bytes.append(channel.hit ? 1 : 0)
            put(Float(channel.peakExcess).bitPattern)
            put(Float(channel.peakSigma).bitPattern)
            put(Float(channel.area).bitPattern)
            put(Float(channel.coverage).bitPattern)
            put(UInt32(clamping: channel.rejectedInWindow))
        }
        for compound in compounds {
            beginData(.detectionCompound)
            put(detection.onset)
            put(sequence)
            put(UInt16(clamping: compound.compound))
            put(Float(compound.dose).bitPattern)
            put(Float(compound.meanPPM).bitPattern)
        }
        for score in scores {
            beginData(.detectionScore)
            put(detection.onset)
            put(sequence)
            put(UInt16(clamping: score.signatureClass))
            put(Float(score.misfit).bitPattern)
        }
    }

    /// Encodes a sync message ('S') now.
    public mutating func appendSync() {
        beginMessage(ULog.MessageType.sync, size: ULog.syncMagic.count)
        bytes.append(contentsOf: ULog.syncMagic)
        bytesSinceSync = 0
    }

    // MARK: - Helpers

    /// Starts a data message of a topic, after a sync message if one is due.
    private mutating func beginData(_ topic: SnuffelTopic) {
        if bytesSinceSync >= syncInterval { appendSync() }
        beginMessage(ULog.MessageType.data, size: 2 + topic.payloadSize)
        put(topic.rawValue)
    }

    private mutating func beginMessage(_ type: UInt8, size: Int) {
        put(UInt16(size))
        bytes.append(type)
        let total = ULog.messageHeaderSize + size
        totalByteCount += total
        bytesSinceSync += total
    }

    @inline(__always)
    private mutating func put<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        for _ in 0..<MemoryLayout<T>.size {
            bytes.append(UInt8(truncatingIfNeeded: v))
            v = v >> 8
        }
    }

    /// Cuts UTF-8 bytes to at most `limit` bytes at a character boundary.
    static func cut(_ text: [UInt8], to limit: Int) -> ArraySlice<UInt8> {
        guard text.count > limit else { return text[...] }
        var end = limit
        while end > 0 && text[end] & 0xC0 == 0x80 { end -= 1 }
        return text[..<end]
    }
}

extension SnuffelTopic {
    /// The packed size of the topic's fields, computed once per topic.
    var payloadSize: Int {
        switch self {
        case .sample: return 20
        case .pose: return 60
        case .wind: return 20
        case .detection: return 62
        case .detectionChannel: return 35
        case .detectionCompound: return 22
        case .detectionScore: return 18
        case .clock: return 16
        case .health: return 96
        case .tube: return 51
        }
    }
}
