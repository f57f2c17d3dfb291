import SnuffelCore

/// Decodes a ULog file into Snuffel's records, incrementally and in bounded memory.
///
/// The reader reads any ULog file of version 1 (PX4's "ULog File Format"): it parses the
/// formats ('F') and subscriptions ('A'), and returns the data of Snuffel's topics
/// (`snuffel_sample`, `snuffel_pose`, ...; see ``ULogEncoder``) as typed records, along
/// with info, multi-info, text and dropout messages. Data of other topics, parameters
/// and message types it does not know are skipped and counted in
/// ``skippedMessageCount``, as the format asks. Fields of Snuffel's topics are found by
/// name and type, so a file may add fields or padding.
///
/// The reader works like a swift-nio decoder. Give it bytes as they come with
/// ``append(contentsOf:)``, call ``next()`` until it returns nil (it needs more bytes: a
/// short read is not an error), and call ``finish()`` at the end of the input, then
/// ``next()`` again for the last records. Given all bytes at once
/// (``init(bytes:maximumMessageSize:maximumDefinitionBytes:)``) or a file
/// (``init(contentsOfFile:maximumMessageSize:maximumDefinitionBytes:)``), it needs no
/// feeding and nil means the end. The same records and errors come out however the bytes
/// are split.
///
/// A log cut anywhere (a power cut while logging) gives every message before the cut;
/// once nil has come at the end of the input, ``truncatedByteCount`` tells how many bytes
/// were left over after the last whole message (0 for a whole file).
///
/// Data of other loggers' topics (PX4's `vehicle_global_position`, ...) is returned as
/// ``ULogRecord/topic(_:)`` records for the topics named in ``foreignTopics``: their
/// formats, nested types and arrays are flattened into named fields read on demand.
///
/// Errors are final: every later call throws the same ``ULogError``, which names the
/// offset of the bad message. Memory stays bounded: a message's payload is at most
/// ``maximumMessageSize`` bytes, formats and subscriptions together at most
/// ``maximumDefinitionBytes`` (counted as their text plus 64 bytes per field), and the
/// reader holds at most one message plus the bytes last appended (or one file chunk).
public struct ULogReader: Sendable {
    /// The default of ``maximumMessageSize``: 65,535, the largest size a message can state.
    public static let defaultMaximumMessageSize = 65_535
    /// The default of ``maximumDefinitionBytes``: 4 MiB.
    public static let defaultMaximumDefinitionBytes = 4 * 1024 * 1024

    /// The most bytes a message's payload may hold.
    public let maximumMessageSize: Int
    /// The most bytes of formats and subscriptions held, and the longest multi-info value.
    public let maximumDefinitionBytes: Int

    /// The file's version byte, once the header is read.
    public private(set) var version: UInt8?
    /// The file's start time, µs, once the header is read.
    public private(set) var startTime: UInt64?
    /// The messages read so far.
    public private(set) var messageCount = 0
    /// Messages read but not returned: data of topics that are not Snuffel's, parameters
    /// and unknown message types.
    public private(set) var skippedMessageCount = 0
    /// Once ``next()`` returned nil at the end of the input: the bytes after the last
    /// whole message (0 when the file is whole). Nil before.
    public private(set) var truncatedByteCount: Int?
    /// The bytes of the input consumed: the offset of the next message.
    public var consumedByteCount: Int { base + readIndex }
    /// Topics that are not Snuffel's whose data is returned as ``ULogRecord/topic(_:)``
    /// (by format name, e.g. `vehicle_gps_position`); set it before the subscriptions are
    /// read. Empty by default: other topics are skipped and counted.
    public var foreignTopics: Set<String> = []

    // Input: `buffer[readIndex...]` is not yet consumed; `base` is the input offset of
    // `buffer[0]`.
    var buffer: [UInt8] = []
    var readIndex = 0
    var base = 0
    var inputEnded = false
    var ended = false
    var file: FileSource?
    var failure: ULogError?

    // Definitions.
    var formats: [String: [FormatField]] = [:]
    var definitionBytes = 0
    var subscriptions: [UInt16: Subscription] = [:]
    /// The subscriptions of the ids below ``directIDs`` again, by id: loggers number their
    /// subscriptions from 0, and a data message looked up in the dictionary paid for
    /// hashing its id (a tenth of replaying a Snuffel log).
    var subscriptionsByID: [Subscription?] = []
    static let directIDs = 256

    // Output.
    var ready: [ULogRecord] = []
    var readyIndex = 0
    var pendingInfo: PendingInfo?
    var pendingDetection: PendingDetection?

    struct FormatField: Sendable {
        var type: String
        /// The array length, or nil for a scalar.
        var count: Int?
        var name: String
    }

    /// A class, immutable: looked up for every data message, a struct of strings and
    /// arrays was copied field by field (a fifth of reading a sample); a reference is one
    /// retain.
    final class Subscription: Sendable {
        let name: String
        /// The Snuffel topic, or nil for a topic that is skipped.
        let topic: SnuffelTopic?
        /// The offsets of the topic's fields, in ``SnuffelTopic/fields`` order.
        let offsets: [Int]
        /// The least payload size (after the message id) that holds all the fields.
        let size: Int
        /// The flattened fields of a foreign topic that is read, else nil.
        let layout: ULogTopicLayout?
        /// The subscription's multi id (instance).
        let multiID: UInt8

        init(name: String, topic: SnuffelTopic?, offsets: [Int], size: Int, layout: ULogTopicLayout? = nil, multiID: UInt8 = 0) {
            self.name = name
            self.topic = topic
            self.offsets = offsets
            self.size = size
            self.layout = layout
            self.multiID = multiID
        }
    }

    struct PendingInfo: Sendable {
        var key: String
        var type: String
        var bytes: [UInt8]
    }

    struct PendingDetection: Sendable {
        var detection: Detection
        var sequence: UInt32
        var channels: Int
        var compounds: Int
        var scores: Int

        var isComplete: Bool {
            detection.channels.count == channels && detection.compounds.count == compounds
                && detection.scores.count == scores
        }
    }

    /// Creates a reader that is fed bytes with ``append(contentsOf:)``.
    ///
    /// - Parameters:
    ///   - maximumMessageSize: The most bytes a message's payload may hold; at least 64.
    ///   - maximumDefinitionBytes: The most bytes of formats and subscriptions held, and
    ///     the longest multi-info value; at least 1024.
    public init(
        maximumMessageSize: Int = ULogReader.defaultMaximumMessageSize,
        maximumDefinitionBytes: Int = ULogReader.defaultMaximumDefinitionBytes
    ) {
        self.maximumMessageSize = max(64, maximumMessageSize)
        self.maximumDefinitionBytes = max(1024, maximumDefinitionBytes)
    }

    /// Creates a reader of bytes that are all at hand; it needs no feeding.
    /// - Complexity: O(1) for an `Array`, else O(*n*) to copy the bytes.
    public init(
        bytes: some Collection<UInt8>, maximumMessageSize: Int = ULogReader.defaultMaximumMessageSize,
        maximumDefinitionBytes: Int = ULogReader.defaultMaximumDefinitionBytes
    ) {
        self.init(maximumMessageSize: maximumMessageSize, maximumDefinitionBytes: maximumDefinitionBytes)
        buffer = Array(bytes)
        inputEnded = true
    }

    /// Adds bytes to the input.
    ///
    /// - Parameter bytes: The next bytes of the input, split anywhere.
    /// - Precondition: ``finish()`` has not been called, and the reader was not created
    ///   with all its bytes or from a file.
    /// - Complexity: O(*m* + *k*): the bytes appended and those held of an incomplete
    ///   message.
    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        precondition(!inputEnded && file == nil, "ULogReader: append after the end of the input")
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Marks the end of the input; ``next()`` then returns the last records and nil at
    /// the end.
    public mutating func finish() {
        inputEnded = true
    }

    /// The bytes held that are not consumed yet.
    var bufferedByteCount: Int { buffer.count - readIndex }

    /// Decodes the next record.
    ///
    /// - Returns: The next record, or nil if more bytes are needed (or, once the input
    ///   has ended, at the end; then ``truncatedByteCount`` is set).
    /// - Throws: ``ULogError``; it is final.
    public mutating func next() throws(ULogError) -> ULogRecord? {
        if let failure { throw failure }
        do throws(ULogError) {
            while true {
                // Mostly a message makes one record: moved out, the queue left empty.
                if readyIndex == 0 && ready.count == 1 { return ready.removeLast() }
                if readyIndex < ready.count {
                    let record = ready[readyIndex]
                    readyIndex += 1
                    if readyIndex == ready.count {
                        ready.removeAll(keepingCapacity: true)
                        readyIndex = 0
                    }
                    return record
                }
                if ended { return nil }
                if try step() { continue }
                if try refill() { continue }
                guard inputEnded else { return nil }
                flushInfo()
                if let pending = pendingDetection {
                    ready.append(.detection(pending.detection, isComplete: false))
                    pendingDetection = nil
                }
                truncatedByteCount = bufferedByteCount
                ended = true
            }
        } catch {
            failure = error
            throw error
        }
    }

    // MARK: - Input

    private mutating func compact() {
        guard readIndex > 0 else { return }
        buffer.removeSubrange(0..<readIndex)
        base += readIndex
        readIndex = 0
    }

    /// Appends the next chunk of the file; false for a fed reader or at the end.
    private mutating func refill() throws(ULogError) -> Bool {
        guard !inputEnded, file != nil else { return false }
        compact()
        switch file?.read(appendingTo: &buffer) ?? .success(0) {
        case .success(let count):
            if count == 0 { inputEnded = true }
            return count > 0
        case .failure(let failure):
            inputEnded = true
            throw ULogError(
                offset: consumedByteCount, reason: .readFailed(code: failure.code, message: failure.message))
        }
    }

    /// Consumes the header or one message if the buffer holds it whole.
    ///
    /// - Returns: Whether something was consumed; false if more bytes are needed.
    private mutating func step() throws(ULogError) -> Bool {
        let available = bufferedByteCount
        if version == nil {
            for i in 0..<min(available, ULog.magic.count) where buffer[readIndex + i] != ULog.magic[i] {
                throw ULogError(offset: consumedByteCount, reason: .badMagic)
            }
            guard available >= ULog.headerSize else { return false }
            version = buffer[readIndex + 7]
            startTime = u64(readIndex + 8)
            readIndex += ULog.headerSize
            return true
        }
        guard available >= ULog.messageHeaderSize else { return false }
        let size = Int(u16(readIndex))
        let type = buffer[readIndex + 2]
        if size > maximumMessageSize {
            throw ULogError(
                offset: consumedByteCount, messageType: type, reason: .messageTooLarge(size: size, limit: maximumMessageSize))
        }
        guard available >= ULog.messageHeaderSize + size else { return false }
        do throws(ULogError.Reason) {
            try process(type: type, start: readIndex + ULog.messageHeaderSize, size: size)
        } catch {
            throw ULogError(offset: consumedByteCount, messageType: type, reason: error)
        }
        readIndex += ULog.messageHeaderSize + size
        messageCount += 1
        return true
    }

    // MARK: - Messages

    private mutating func process(type: UInt8, start: Int, size: Int) throws(ULogError.Reason) {
        typealias T = ULog.MessageType
        if type != T.multiInfo { flushInfo() }
        func need(_ minimum: Int) throws(ULogError.Reason) {
            if size < minimum { throw .messageTooShort(size: size, minimum: minimum) }
        }
        switch type {
        case T.flagBits:
            if messageCount != 0 { throw .flagBitsNotFirst }
            try need(16)
            let incompatible = Array(buffer[(start + 8)..<(start + 16)])
            if incompatible.contains(where: { $0 != 0 }) { throw .incompatibleFlags(incompatible) }
        case T.format:
            try addFormat(buffer[start..<(start + size)])
        case T.info:
            try need(1)
            let (key, type, value) = try info(start: start, size: size)
            ready.append(.info(ULogInfo(key: key, type: type, value: decodeValue(type: type, value))))
        case T.multiInfo:
            try need(2)
            let isContinued = buffer[start] != 0
            let (key, type, value) = try info(start: start + 1, size: size - 1)
            if isContinued, var pending = pendingInfo, pending.key == key {
                pendingInfo = nil
                if pending.bytes.count + value.count > maximumDefinitionBytes {
                    throw .infoTooLong(limit: maximumDefinitionBytes)
                }
                pending.bytes.append(contentsOf: value)
                pendingInfo = pending
            } else {
                flushInfo()
                pendingInfo = PendingInfo(key: key, type: type, bytes: Array(value))
            }
        case T.addLogged:
            try need(3)
            try addSubscription(
                id: u16(start + 1), name: ulogText(buffer[(start + 3)..<(start + size)]), size: size,
                multiID: buffer[start])
        case T.removeLogged:
            try need(2)
            setSubscription(nil, id: u16(start))
        case T.data:
            try need(2)
            let id = u16(start)
            let known = Int(id) < subscriptionsByID.count ? subscriptionsByID[Int(id)] : subscriptions[id]
            guard let subscription = known else { throw .unknownMessageID(id) }
            guard let topic = subscription.topic else {
                if let layout = subscription.layout {
                    guard size - 2 >= layout.size else {
                        throw .dataTooShort(topic: subscription.name, size: size - 2, expected: layout.size)
                    }
                    ready.append(.topic(ULogTopicData(
                        name: subscription.name, multiID: subscription.multiID, layout: layout,
                        payload: Array(buffer[(start + 2)..<(start + 2 + layout.size)]))))
                    return
                }
                skippedMessageCount += 1
                return
            }
            guard size - 2 >= subscription.size else {
                throw .dataTooShort(topic: topic.name, size: size - 2, expected: subscription.size)
            }
            try decode(topic, at: start + 2, offsets: subscription.offsets)
        case T.logging:
            try need(9)
            ready.append(.logging(ULogLogMessage(
                level: buffer[start], time: u64(start + 1), text: ulogText(buffer[(start + 9)..<(start + size)]))))
        case T.taggedLogging:
            try need(11)
            ready.append(.logging(ULogLogMessage(
                level: buffer[start], time: u64(start + 3), text: ulogText(buffer[(start + 11)..<(start + size)]),
                tag: u16(start + 1))))
        case T.sync:
            try need(ULog.syncMagic.count)
            if !buffer[start..<(start + ULog.syncMagic.count)].elementsEqual(ULog.syncMagic) { throw .badSync }
        case T.dropout:
            try need(2)
            ready.append(.dropout(milliseconds: u16(start)))
        default:
            // Parameters, default parameters and unknown types.
            skippedMessageCount += 1
        }
    }

    /// Emits a multi-info value that is complete (the message after it is not its
    /// continuation).
    private mutating func flushInfo() {
        guard let pending = pendingInfo else { return }
        pendingInfo = nil
        ready.append(.multiInfo(ULogInfo(
            key: pending.key, type: pending.type, value: decodeValue(type: pending.type, pending.bytes[...]))))
    }

    /// Splits an info payload (`key_len`, `type name`, value).
    private func info(start: Int, size: Int) throws(ULogError.Reason) -> (String, String, ArraySlice<UInt8>) {
        let keyLength = Int(buffer[start])
        guard size >= 1 + keyLength else { throw .messageTooShort(size: size, minimum: 1 + keyLength) }
        let keyBytes = buffer[(start + 1)..<(start + 1 + keyLength)]
        guard let space = keyBytes.firstIndex(of: UInt8(ascii: " ")), space > keyBytes.startIndex,
            space + 1 < keyBytes.endIndex
        else { throw .malformedInfoKey(ulogErrorText(keyBytes)) }
        return (
            ulogText(buffer[(space + 1)..<keyBytes.endIndex]), ulogText(buffer[keyBytes.startIndex..<space]),
            buffer[(start + 1 + keyLength)..<(start + size)]
        )
    }

    private func decodeValue(type: String, _ value: ArraySlice<UInt8>) -> ULogInfoValue {
        ulogValue(type: type, value)
    }

    /// Parses `name:type field;type[N] field;...` and stores it.
    private mutating func addFormat(_ text: ArraySlice<UInt8>) throws(ULogError.Reason) {
        let malformed = ULogError.Reason.malformedFormat(ulogErrorText(text))
        guard let colon = text.firstIndex(of: UInt8(ascii: ":")), colon > text.startIndex else { throw malformed }
        let name = ulogText(text[..<colon])
        var fields: [FormatField] = []
        for item in text[(colon + 1)...].split(separator: UInt8(ascii: ";")) {
            // PX4 ends the text with ';' and may pad it with NULs.
            if item.allSatisfy({ $0 == 0 }) { continue }
            let parts = item.split(separator: UInt8(ascii: " "))
            guard parts.count == 2 else { throw malformed }
            var type = ulogText(parts[0])
            var count: Int?
            if let open = type.firstIndex(of: "[") {
                guard type.last == "]", let n = Int(type[type.index(after: open)..<type.index(before: type.endIndex)]),
                    (0...65_535).contains(n)
                else { throw malformed }
                count = n
                type = String(type[..<open])
            }
            guard !type.isEmpty else { throw malformed }
            fields.append(FormatField(type: type, count: count, name: ulogText(parts[1])))
        }
        // The parsed fields take more memory than their text: count that too.
        definitionBytes += text.count + 64 * fields.count
        if definitionBytes > maximumDefinitionBytes { throw .definitionsTooLarge(limit: maximumDefinitionBytes) }
        formats[name] = fields
    }

    /// Adds a subscription, resolving the fields of a Snuffel topic.
    private mutating func addSubscription(id: UInt16, name: String, size: Int, multiID: UInt8) throws(ULogError.Reason) {
        definitionBytes += size
        if definitionBytes > maximumDefinitionBytes { throw .definitionsTooLarge(limit: maximumDefinitionBytes) }
        guard let fields = formats[name] else { throw .unknownFormat(ulogErrorText(name.utf8)) }
        guard let topic = SnuffelTopic(name: name) else {
            var layout: ULogTopicLayout?
            if foreignTopics.contains(name) {
                var flattened = ULogTopicLayout()
                try flatten(fields, prefix: "", at: 0, depth: 0, into: &flattened)
                layout = flattened
            }
            setSubscription(Subscription(name: name, topic: nil, offsets: [], size: 0, layout: layout, multiID: multiID), id: id)
            return
        }
        // Offsets of the format's fields; nested types are sized, memoised.
        var sizes: [String: Int] = [:]
        var located: [String: (type: String, offset: Int)] = [:]
        var offset = 0
        for field in fields {
            let fieldSize = try typeSize(field.type, depth: 0, sizes: &sizes) * (field.count ?? 1)
            if field.count == nil && located[field.name] == nil { located[field.name] = (field.type, offset) }
            offset += fieldSize
            if offset > 65_535 { throw .formatTooLarge(ulogErrorText(name.utf8)) }
        }
        var offsets: [Int] = []
        var end = 0
        for required in topic.fields {
            guard let found = located[required.name], found.type == required.type else {
                throw .fieldMismatch(topic: topic.name, field: required.name, expectedType: required.type)
            }
            offsets.append(found.offset)
            end = max(end, found.offset + (ULog.basicSize(required.type[...]) ?? 0))
        }
        setSubscription(Subscription(name: name, topic: topic, offsets: offsets, size: end), id: id)
    }

    /// Sets or removes the subscription of an id, in both tables.
    private mutating func setSubscription(_ subscription: Subscription?, id: UInt16) {
        subscriptions[id] = subscription
        let i = Int(id)
        guard i < Self.directIDs else { return }
        if i >= subscriptionsByID.count { subscriptionsByID += Array(repeating: nil, count: i + 1 - subscriptionsByID.count) }
        subscriptionsByID[i] = subscription
    }

    /// Adds the basic fields of `fields` to `layout`, nested types and arrays flattened
    /// (`parent.child`, `q[0]`; a `char[N]` stays one text field; `_padding` fields are
    /// left out); counts 64 bytes per field against ``maximumDefinitionBytes``.
    private mutating func flatten(
        _ fields: [FormatField], prefix: String, at base: Int, depth: Int, into layout: inout ULogTopicLayout
    ) throws(ULogError.Reason) {
        guard depth < 8 else { throw .formatTooLarge(ulogErrorText(prefix.utf8)) }
        var offset = base
        var sizes: [String: Int] = [:]
        for field in fields {
            let elementSize = try typeSize(field.type, depth: depth, sizes: &sizes)
            let count = field.count ?? 1
            let name = prefix + field.name
            if field.name.hasPrefix("_padding") {
                offset += elementSize * count
            } else if ULog.basicSize(field.type[...]) != nil && (field.type == "char" && field.count != nil || count == 1) {
                definitionBytes += 64
                layout.add(name: name, type: field.type, offset: offset, count: count)
                offset += elementSize * count
            } else {
                for k in 0..<count {
                    let element = field.count == nil ? name : "\(name)[\(k)]"
                    definitionBytes += 64
                    if definitionBytes > maximumDefinitionBytes { throw .definitionsTooLarge(limit: maximumDefinitionBytes) }
                    if ULog.basicSize(field.type[...]) != nil {
                        layout.add(name: element, type: field.type, offset: offset, count: 1)
                    } else if let nested = formats[field.type] {
                        try flatten(nested, prefix: element + ".", at: offset, depth: depth + 1, into: &layout)
                    }
                    offset += elementSize
                }
            }
            if definitionBytes > maximumDefinitionBytes { throw .definitionsTooLarge(limit: maximumDefinitionBytes) }
            if offset > 65_535 { throw .formatTooLarge(ulogErrorText(prefix.utf8)) }
        }
    }

    /// The size of a field type; nested types are summed, at most 8 deep.
    private func typeSize(_ type: String, depth: Int, sizes: inout [String: Int]) throws(ULogError.Reason) -> Int {
        if let size = ULog.basicSize(type[...]) { return size }
        if let size = sizes[type] { return size }
        guard depth < 8 else { throw .formatTooLarge(ulogErrorText(type.utf8)) }
        guard let fields = formats[type] else { throw .unknownFormat(ulogErrorText(type.utf8)) }
        var total = 0
        for field in fields {
            total += try typeSize(field.type, depth: depth + 1, sizes: &sizes) * (field.count ?? 1)
            if total > 65_535 { throw .formatTooLarge(ulogErrorText(type.utf8)) }
        }
        sizes[type] = total
        return total
    }

    // MARK: - Snuffel topics

    private mutating func decode(_ topic: SnuffelTopic, at d: Int, offsets o: [Int]) throws(ULogError.Reason) {
        switch topic {
        case .sample:
            ready.append(.sample(Sample(
                channel: u16(d + o[1]), time: u64(d + o[0]), value: f64(d + o[3]), status: u16(d + o[2]))))
        case .pose:
            ready.append(.pose(ULogPose(
                time: u64(d + o[0]), latitude: f64(d + o[1]), longitude: f64(d + o[2]), altitude: f32(d + o[3]),
                roll: f32(d + o[4]), pitch: f32(d + o[5]), yaw: f32(d + o[6]),
                velocityNorth: f32(d + o[7]), velocityEast: f32(d + o[8]), velocityDown: f32(d + o[9]),
                gpsTime: u64(d + o[10]))))
        case .wind:
            ready.append(.wind(ULogWind(time: u64(d + o[0]), north: f32(d + o[1]), east: f32(d + o[2]), down: f32(d + o[3]))))
        case .clock:
            ready.append(.clock(ULogClock(time: u64(d + o[0]), utc: u64(d + o[1]))))
        case .tube:
            let detection = Int32(bitPattern: u32(d + o[6]))
            ready.append(.tube(ULogTube(
                tube: u8(d + o[7]), start: u64(d + o[1]), end: u64(d + o[2]), latitude: f64(d + o[3]), longitude: f64(d + o[4]),
                altitude: f32(d + o[5]), detection: detection < 0 ? nil : Int(detection),
                reason: ULogTube.Reason(rawValue: u8(d + o[8])) ?? .operatorRequest, isComplete: u8(d + o[9]) != 0)))
        case .health:
            func c(_ i: Int) -> Int { Int(clamping: u64(d + o[i])) }
            var health = PipelineHealth()
            health.accepted = c(1)
            health.unknownChannel = c(2)
            health.nonFinite = c(3)
            health.outOfRange = c(4)
            health.outOfOrder = c(5)
            health.duplicate = c(6)
            health.gaps = c(7)
            health.unconfirmedHits = c(8)
            health.truncatedEvents = c(9)
            health.humidityArtefacts = c(10)
            health.historyOverruns = c(11)
            ready.append(.health(time: u64(d + o[0]), health))
        case .detection:
            if let pending = pendingDetection {
                ready.append(.detection(pending.detection, isComplete: false))
                pendingDetection = nil
            }
            let sequence = u32(d + o[4])
            let signatureClass = Int16(bitPattern: u16(d + o[5]))
            let detection = Detection(
                sequence: Int(sequence), onset: u64(d + o[1]), peak: u64(d + o[2]), end: u64(d + o[3]),
                channels: [], signatureClass: signatureClass < 0 ? nil : Int(signatureClass),
                confidence: Double(f32(d + o[6])), threatConfidence: Double(f32(d + o[7])),
                isConfounder: buffer[d + o[14]] != 0, isAlert: buffer[d + o[13]] != 0,
                compounds: [], scores: [], residual: Double(f32(d + o[8])), snr: Double(f32(d + o[9])))
            let pending = PendingDetection(
                detection: detection, sequence: sequence, channels: Int(u16(d + o[10])),
                compounds: Int(u16(d + o[11])), scores: Int(u16(d + o[12])))
            if pending.isComplete {
                ready.append(.detection(detection, isComplete: true))
            } else {
                pendingDetection = pending
            }
        case .detectionChannel, .detectionCompound, .detectionScore:
            let sequence = u32(d + o[1])
            guard var pending = pendingDetection, pending.sequence == sequence else {
                throw .unexpectedDetectionPart(sequence: sequence)
            }
            pendingDetection = nil
            switch topic {
            case .detectionChannel:
                guard pending.detection.channels.count < pending.channels else {
                    throw .unexpectedDetectionPart(sequence: sequence)
                }
                pending.detection.channels.append(ChannelEvidence(
                    channel: Int(u16(d + o[2])), peakExcess: Double(f32(d + o[4])), peakSigma: Double(f32(d + o[5])),
                    area: Double(f32(d + o[6])), hit: buffer[d + o[3]] != 0, coverage: Double(f32(d + o[7])),
                    rejectedInWindow: Int(u32(d + o[8]))))
            case .detectionCompound:
                guard pending.detection.compounds.count < pending.compounds else {
                    throw .unexpectedDetectionPart(sequence: sequence)
                }
                pending.detection.compounds.append(CompoundEstimate(
                    compound: Int(u16(d + o[2])), dose: Double(f32(d + o[3])), meanPPM: Double(f32(d + o[4]))))
            default:
                guard pending.detection.scores.count < pending.scores else {
                    throw .unexpectedDetectionPart(sequence: sequence)
                }
                pending.detection.scores.append(ClassScore(signatureClass: Int(u16(d + o[2])), misfit: Double(f32(d + o[3]))))
            }
            if pending.isComplete {
                ready.append(.detection(pending.detection, isComplete: true))
            } else {
                pendingDetection = pending
            }
        }
    }

    // MARK: - Little-endian loads (the caller has checked the bounds)

    @inline(__always)
    private func u8(_ i: Int) -> UInt8 { buffer[i] }

    @inline(__always)
    private func u16(_ i: Int) -> UInt16 { UInt16(buffer[i]) | UInt16(buffer[i + 1]) << 8 }

    @inline(__always)
    private func u32(_ i: Int) -> UInt32 {
        UInt32(buffer[i]) | UInt32(buffer[i + 1]) << 8 | UInt32(buffer[i + 2]) << 16 | UInt32(buffer[i + 3]) << 24
    }

    @inline(__always)
    private func u64(_ i: Int) -> UInt64 { UInt64(u32(i)) | UInt64(u32(i + 4)) << 32 }

    @inline(__always)
    private func f32(_ i: Int) -> Float { Float(bitPattern: u32(i)) }

    @inline(__always)
    private func f64(_ i: Int) -> Double { Double(bitPattern: u64(i)) }
}

/// The fields of a foreign topic, flattened to basic types: where each lies in a data
/// message.
public struct ULogTopicLayout: Sendable, Equatable {
    /// One basic field.
    public struct Field: Sendable, Equatable {
        /// The flattened name: `lat`, `q[0]`, `parent.child`.
        public var name: String
        /// The basic type, e.g. `float`.
        public var type: String
        /// The offset after the message id.
        public var offset: Int
        /// The array length of a `char[N]` text field, else 1.
        public var count: Int
    }

    /// The fields in format order.
    public private(set) var fields: [Field] = []
    /// The least payload size (after the message id) that holds every field: the format's
    /// size without trailing padding.
    public internal(set) var size = 0
    private var index: [String: Int] = [:]

    mutating func add(name: String, type: String, offset: Int, count: Int) {
        if index[name] == nil { index[name] = fields.count }
        fields.append(Field(name: name, type: type, offset: offset, count: count))
        // Trailing padding does not count: PX4's logger leaves it out of data messages.
        size = max(size, offset + (ULog.basicSize(type[...]) ?? 1) * count)
    }

    /// The field with this flattened name.
    /// - Complexity: O(1) on average.
    public func field(_ name: String) -> Field? { index[name].map { fields[$0] } }
}

/// A data message ('D') of a topic that is not Snuffel's, read when the reader's
/// ``ULogReader/foreignTopics`` names it.
public struct ULogTopicData: Sendable, Equatable {
    /// The topic's format name, e.g. `vehicle_global_position`.
    public var name: String
    /// The instance (multi id) of the subscription.
    public var multiID: UInt8
    /// Where the fields lie.
    public var layout: ULogTopicLayout
    /// The message's bytes after the message id, `layout.size` of them.
    public var payload: [UInt8]

    /// The field with this flattened name (`timestamp`, `lat`, `q[0]`), or nil if the
    /// format has none.
    public func value(_ name: String) -> ULogInfoValue? {
        guard let field = layout.field(name), field.offset + field.count <= payload.count else { return nil }
        let bytes = payload[field.offset..<(field.offset + (ULog.basicSize(field.type[...]) ?? 1) * field.count)]
        return ulogValue(type: field.type == "char" && field.count > 1 ? "char[\(field.count)]" : field.type, bytes)
    }

    /// The field as a number, or nil if it is absent or text.
    public func number(_ name: String) -> Double? { value(name)?.number }

    /// The `timestamp` field (µs on the autopilot's boot clock), or nil.
    public var timestamp: UInt64? {
        if case .unsignedInteger(let t)? = value("timestamp") { return t }
        return nil
    }
}

/// Bytes of the input as text: invalid UTF-8 is replaced, trailing NULs dropped.
func ulogText(_ bytes: ArraySlice<UInt8>) -> String {
    var end = bytes.endIndex
    while end > bytes.startIndex && bytes[end - 1] == 0 { end -= 1 }
    return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
}

/// A value of a basic ULog type (or `char[N]`) from its little-endian bytes; the raw bytes
/// when the type is not basic or the size does not match.
func ulogValue(type: String, _ value: ArraySlice<UInt8>) -> ULogInfoValue {
        if type.hasPrefix("char[") { return .string(ulogText(value)) }
        guard let size = ULog.basicSize(type[...]), size == value.count else { return .bytes(Array(value)) }
        var bits: UInt64 = 0
        for (i, byte) in value.enumerated() { bits |= UInt64(byte) << (8 * UInt64(i)) }
        switch type {
        case "int8_t": return .integer(Int64(Int8(truncatingIfNeeded: bits)))
        case "int16_t": return .integer(Int64(Int16(truncatingIfNeeded: bits)))
        case "int32_t": return .integer(Int64(Int32(truncatingIfNeeded: bits)))
        case "int64_t": return .integer(Int64(bitPattern: bits))
        case "float": return .floatingPoint(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits))))
        case "double": return .floatingPoint(Double(bitPattern: bits))
        case "char": return .string(ulogText(value))
        default: return .unsignedInteger(bits)
        }
}
