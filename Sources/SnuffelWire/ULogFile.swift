import SnuffelCore

extension ULogReader {
    /// Creates a reader of a ULog file, read in chunks as records are taken.
    ///
    /// The file stays open until the reader and its copies are gone; copies read
    /// independently. A read error is thrown by ``next()`` as
    /// ``ULogError/Reason/readFailed(code:message:)``.
    ///
    /// - Parameters:
    ///   - path: The file's path.
    ///   - maximumMessageSize: The most bytes a message's payload may hold.
    ///   - maximumDefinitionBytes: The most bytes of formats and subscriptions held.
    /// - Throws: ``FileOpenError`` if the file cannot be opened.
    public init(
        contentsOfFile path: String, maximumMessageSize: Int = ULogReader.defaultMaximumMessageSize,
        maximumDefinitionBytes: Int = ULogReader.defaultMaximumDefinitionBytes
    ) throws(FileOpenError) {
        switch system_openForReading(path) {
        case .success(let descriptor):
            self.init(maximumMessageSize: maximumMessageSize, maximumDefinitionBytes: maximumDefinitionBytes)
            self.file = FileSource(descriptor: FileDescriptorOwner(descriptor))
        case .failure(let failure):
            throw FileOpenError(path: path, code: failure.code, message: failure.message)
        }
    }
}

/// Writing a ULog file failed.
public struct ULogWriteError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file's path.
    public var path: String
    /// The `errno` value.
    public var code: Int32
    public var message: String

    public var description: String { "cannot write '\(path)': \(message)" }
}

/// Writes a Snuffel ULog file in blocks, so that a power cut loses at most the block not
/// yet written.
///
/// The writer keeps a ``ULogEncoder`` and writes its bytes to the file whenever they
/// reach ``blockSize`` (64 KiB by default), and at ``flush()`` and ``close()``. A reader
/// of a file cut anywhere gets every message before the cut (see ``ULogReader``).
///
/// With a ``ULogBlockSealer`` (`SnuffelSigning`'s signed hash chain, for example), every
/// written block ends with the sealer's info message, and ``close()`` writes a final one;
/// a writer released without ``close()`` seals its last block as not final, so the log
/// reads as cut, not as closed.
///
/// The writer owns its file descriptor; it closes it in ``close()`` or, writing what is
/// left as well as it can, when it is released.
public final class ULogFileWriter {
    /// The default of ``blockSize``: 64 KiB.
    public static let defaultBlockSize = 64 * 1024

    /// The file's path.
    public let path: String
    /// The bytes gathered before they are written.
    public let blockSize: Int
    /// The encoder; `append` to it through the writer's methods so that blocks are
    /// written when full.
    public private(set) var encoder: ULogEncoder
    private var descriptor: Int32?
    /// Seals each block before it is written; nil for a plain log.
    private var sealer: (any ULogBlockSealer)?
    /// The latest record time appended, the time a seal carries.
    public private(set) var latestTime: UInt64

    /// Creates (or empties) the file and encodes the header and definitions.
    ///
    /// - Parameters:
    ///   - path: The file's path.
    ///   - startTime: The log's start time, µs.
    ///   - channelIDs: The payload's channel ids, in channel-index order.
    ///   - payloadTOML: The payload configuration's text, if any.
    ///   - signaturesTOML: The signature library's text, if any.
    ///   - calibrationTOML: The per-unit calibration files' texts, by channel id.
    ///   - info: More info messages, written as strings.
    ///   - blockSize: The bytes gathered before a write; at least 512.
    ///   - sealer: Seals every block before it is written (a signed log); nil writes a
    ///     plain log. Its ``ULogBlockSealer/headerInfo`` goes after `info`.
    /// - Throws: ``FileOpenError`` if the file cannot be created.
    public init(
        path: String, startTime: UInt64, channelIDs: [String], payloadTOML: String? = nil,
        signaturesTOML: String? = nil, calibrationTOML: [(channelID: String, text: String)] = [],
        info: [(key: String, value: String)] = [], blockSize: Int = ULogFileWriter.defaultBlockSize,
        sealer: (any ULogBlockSealer)? = nil
    ) throws(FileOpenError) {
        switch system_openForWriting(path) {
        case .success(let descriptor):
            self.descriptor = descriptor
        case .failure(let failure):
            throw FileOpenError(path: path, code: failure.code, message: failure.message)
        }
        self.path = path
        self.blockSize = max(512, blockSize)
        self.sealer = sealer
        self.latestTime = startTime
        self.encoder = ULogEncoder(
            startTime: startTime, channelIDs: channelIDs, payloadTOML: payloadTOML, signaturesTOML: signaturesTOML,
            calibrationTOML: calibrationTOML, info: info + (sealer?.headerInfo ?? []), capacity: self.blockSize + 4096)
    }

    deinit {
        if let descriptor {
            sealBlock(isFinal: false)
            encoder.bytes.withUnsafeBytes { _ = system_writeAll(descriptor, $0) }
            system_close(descriptor)
        }
    }

    /// Logs a raw sample (`snuffel_sample`).
    /// - Throws: ``ULogWriteError`` if a full block could not be written.
    public func append(_ sample: Sample) throws(ULogWriteError) {
        encoder.append(sample)
        latestTime = max(latestTime, sample.time)
        try writeIfFull()
    }

    /// Logs a pose (`snuffel_pose`). - Throws: ``ULogWriteError``.
    public func append(_ pose: ULogPose) throws(ULogWriteError) {
        encoder.append(pose)
        latestTime = max(latestTime, pose.time)
        try writeIfFull()
    }

    /// Logs a wind estimate (`snuffel_wind`). - Throws: ``ULogWriteError``.
    public func append(_ wind: ULogWind) throws(ULogWriteError) {
        encoder.append(wind)
        latestTime = max(latestTime, wind.time)
        try writeIfFull()
    }

    /// Logs an evidence sample (`snuffel_tube`). - Throws: ``ULogWriteError``.
    public func append(_ tube: ULogTube) throws(ULogWriteError) {
        encoder.append(tube)
        latestTime = max(latestTime, tube.end)
        try writeIfFull()
    }

    /// Logs a clock pair (`snuffel_clock`). - Throws: ``ULogWriteError``.
    public func append(_ clock: ULogClock) throws(ULogWriteError) {
        encoder.append(clock)
        latestTime = max(latestTime, clock.time)
        try writeIfFull()
    }

    /// Logs a detection with its channels, compounds and scores. - Throws: ``ULogWriteError``.
    public func append(_ detection: Detection) throws(ULogWriteError) {
        encoder.append(detection)
        latestTime = max(latestTime, detection.end)
        try writeIfFull()
    }

    /// Logs the pipeline's counters (`snuffel_health`). - Throws: ``ULogWriteError``.
    public func append(health: PipelineHealth, time: UInt64) throws(ULogWriteError) {
        encoder.append(health: health, time: time)
        latestTime = max(latestTime, time)
        try writeIfFull()
    }

    /// Logs a text message (a health event, for example). - Throws: ``ULogWriteError``.
    public func append(_ message: ULogLogMessage) throws(ULogWriteError) {
        encoder.append(message)
        latestTime = max(latestTime, message.time)
        try writeIfFull()
    }

    /// Writes the bytes gathered so far, a partial block included.
    ///
    /// - Parameter durable: Whether to wait until the data is on the storage device
    ///   (`fsync`).
    public func flush(durable: Bool = false) throws(ULogWriteError) {
        try write(durable: durable, isFinal: false)
    }

    /// Seals (with a sealer) and writes the gathered bytes.
    private func write(durable: Bool, isFinal: Bool) throws(ULogWriteError) {
        guard let descriptor else { return }
        sealBlock(isFinal: isFinal)
        let result = encoder.bytes.withUnsafeBytes { system_writeAll(descriptor, $0) }
        if case .failure(let failure) = result { throw error(failure) }
        encoder.removeAll()
        if durable, case .failure(let failure) = system_fsync(descriptor) { throw error(failure) }
    }

    /// Writes what is left, flushes it to the device and closes the file. Later appends
    /// are kept in memory only.
    public func close() throws(ULogWriteError) {
        guard let descriptor else { return }
        defer {
            system_close(descriptor)
            self.descriptor = nil
        }
        try write(durable: true, isFinal: true)
    }

    /// Gives the file up after a write failed (the disk is full, the device gone): closes it
    /// without writing what is gathered. The file stays as it is, readable (and, when
    /// sealed, verifiable) up to the last block that was written whole.
    public func abandon() {
        guard let descriptor else { return }
        system_close(descriptor)
        self.descriptor = nil
        encoder.removeAll()
    }

    /// Whether the file is still open for writing.
    public var isOpen: Bool { descriptor != nil }

    /// Appends the sealer's message for the gathered bytes; nothing without a sealer, or
    /// when nothing was gathered since the last seal and the log stays open.
    private func sealBlock(isFinal: Bool) {
        guard var sealer, isFinal || !encoder.bytes.isEmpty else { return }
        let (key, value) = sealer.seal(block: encoder.bytes[...], time: latestTime, isFinal: isFinal)
        encoder.appendInfo(key: key, value: value)
        self.sealer = sealer
    }

    private func writeIfFull() throws(ULogWriteError) {
        if encoder.bytes.count >= blockSize { try flush() }
    }

    private func error(_ failure: SystemError) -> ULogWriteError {
        ULogWriteError(path: path, code: failure.code, message: failure.message)
    }
}
