import SnuffelCore

/// Records a flight as the drone does: every sample goes through the pipeline and into the
/// log, each detection is logged the moment it is made, and poses, wind, the clock's
/// mapping to UTC and the pipeline's health go in between, in time order.
///
/// The log is flushed whenever a second of log time has passed since the last flush, so a
/// power cut loses at most about a second of data (plus what the system has not yet
/// written to the disk).
public final class FlightRecorder {
    public let pipeline: Pipeline
    public let writer: ULogFileWriter
    /// UTC minus the log's clock, µs, when known: a clock record is written at the start and
    /// with every health record. A live autopilot sets it with ``record(_:)-(ULogClock)``.
    public private(set) var utcOffset: Int64?
    /// Log time between flushes, µs.
    public var flushInterval: UInt64 = 1_000_000
    /// Log time between health (and clock) records, µs.
    public var healthInterval: UInt64 = 60_000_000
    private var lastFlush: UInt64
    private var nextHealth: UInt64
    private var lastTime: UInt64

    /// Creates the log and writes its header, definitions, the configuration in force and a
    /// first clock record.
    ///
    /// - Parameters:
    ///   - path: The `.ulg` file.
    ///   - pipeline: The pipeline the drone runs (its channels name the log's channels).
    ///   - startTime: The log's start, µs on the drone's clock.
    ///   - utcOffset: UTC minus the drone's clock, µs, if known.
    ///   - payloadTOML, signaturesTOML, calibrationTOML, info: As for ``ULogFileWriter``.
    ///   - sealer: Seals every flushed block (`SnuffelSigning`'s signed hash chain); nil
    ///     writes a plain log.
    /// - Throws: ``FileOpenError`` or ``ULogWriteError``.
    public init(
        path: String, pipeline: Pipeline, startTime: UInt64, utcOffset: Int64?, payloadTOML: String?,
        signaturesTOML: String?, calibrationTOML: [(channelID: String, text: String)] = [],
        info: [(key: String, value: String)] = [], sealer: (any ULogBlockSealer)? = nil
    ) throws {
        self.pipeline = pipeline
        self.utcOffset = utcOffset
        writer = try ULogFileWriter(
            path: path, startTime: startTime, channelIDs: pipeline.configuration.channels.map(\.id),
            payloadTOML: payloadTOML, signaturesTOML: signaturesTOML, calibrationTOML: calibrationTOML, info: info,
            sealer: sealer)
        lastFlush = startTime
        lastTime = startTime
        nextHealth = startTime &+ healthInterval
        if let clock = clock(at: startTime) { try writer.append(clock) }
    }

    private func clock(at time: UInt64) -> ULogClock? {
        utcOffset.map { ULogClock(time: time, utc: UInt64(clamping: Int64(clamping: time) &+ $0)) }
    }

    /// Logs a sample, runs it through the pipeline and logs the detections it completes.
    /// - Returns: The detections made now.
    @discardableResult
    public func record(_ sample: Sample) throws(ULogWriteError) -> [Detection] {
        try housekeeping(at: sample.time)
        try writer.append(sample)
        pipeline.process(sample)
        var made: [Detection] = []
        while let d = pipeline.popDetection() {
            try writer.append(d)
            made.append(d)
        }
        return made
    }

    /// Logs a pose.
    public func record(_ pose: ULogPose) throws(ULogWriteError) {
        try housekeeping(at: pose.time)
        try writer.append(pose)
    }

    /// Logs a wind estimate.
    public func record(_ wind: ULogWind) throws(ULogWriteError) {
        try housekeeping(at: wind.time)
        try writer.append(wind)
    }

    /// Logs a reading of UTC (from the autopilot's SYSTEM_TIME); later clock records use it.
    public func record(_ clock: ULogClock) throws(ULogWriteError) {
        try housekeeping(at: clock.time)
        utcOffset = Int64(clamping: clock.utc) &- Int64(clamping: clock.time)
        try writer.append(clock)
    }

    /// Logs an evidence sample taken.
    public func record(_ tube: ULogTube) throws(ULogWriteError) {
        try housekeeping(at: tube.end)
        try writer.append(tube)
    }

    /// Logs a text message (the daemon's own events: a sensor degraded, the autopilot link
    /// lost, ...).
    public func record(_ message: ULogLogMessage) throws(ULogWriteError) {
        try housekeeping(at: message.time)
        try writer.append(message)
    }

    /// Lets log time pass with nothing to record: writes the health and clock records and
    /// the flush that are due, so the log on disk is never more than a second behind even
    /// when no sample arrives (every sensor failing).
    public func advance(to time: UInt64) throws(ULogWriteError) {
        try housekeeping(at: time)
    }

    /// Health and clock records and flushes that are due by `time`.
    private func housekeeping(at time: UInt64) throws(ULogWriteError) {
        lastTime = max(lastTime, time)
        if time >= nextHealth {
            try writer.append(health: pipeline.health, time: time)
            if let clock = clock(at: time) { try writer.append(clock) }
            nextHealth = time &+ healthInterval
        }
        if time &- lastFlush >= flushInterval && time >= lastFlush {
            try writer.flush()
            lastFlush = time
        }
    }

    /// Ends the flight: the pipeline's last detections, a last health record, and the file
    /// closed.
    /// - Returns: The detections made at the end.
    @discardableResult
    public func finish() throws(ULogWriteError) -> [Detection] {
        pipeline.finish()
        var made: [Detection] = []
        while let d = pipeline.popDetection() {
            try writer.append(d)
            made.append(d)
        }
        try writer.append(health: pipeline.health, time: lastTime)
        try writer.close()
        return made
    }
}
