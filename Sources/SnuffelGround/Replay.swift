import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelGeo
import SnuffelWire

/// The kinds of input `snuffel replay` reads.
public enum FlightLogFormat: String, Sendable {
    /// A Snuffel flight log (ULog): samples, poses, wind, the clock mapping, the
    /// detections made in flight and the configuration in force.
    case ulog
    /// CSV sensor data from another payload: `time_us`, channel columns, optional
    /// `lat`, `lon`, `alt_m`.
    case csv

    /// Tells the format by the file's first bytes: the ULog magic, or text.
    static func detect(path: String) throws(ReplayError) -> FlightLogFormat {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ReplayError(path: path, reason: FileManager.default.fileExists(atPath: path)
                ? "cannot be opened for reading (check its permissions)" : "no such file")
        }
        defer { try? handle.close() }
        let head = Array((try? handle.read(upToCount: 512)) ?? Data())
        if head.starts(with: Array("ULog".utf8)) { return .ulog }
        // Text, or something else: NUL bytes or invalid UTF-8 mean neither format.
        var utf8 = Unicode.UTF8.ForwardParser()
        var bytes = head.makeIterator()
        var decoded = 0
        while case .valid(let scalar) = utf8.parseScalar(from: &bytes) {
            decoded += scalar.count
            if scalar.first == 0 { break }
        }
        // (The last scalar may be cut by the 512-byte window.)
        if head.contains(0) || decoded < head.count - 3 {
            throw ReplayError(path: path, reason: "neither a Snuffel flight log (ULog) nor a CSV text file: it is binary and does not start with the ULog magic bytes")
        }
        return .csv
    }
}

/// A replay that could not run: the input or the configuration was refused.
public struct ReplayError: Error, CustomStringConvertible, Sendable {
    /// The file at fault.
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// What `snuffel replay` is asked to do.
public struct ReplayOptions: Sendable {
    /// A configuration to use instead of the one recorded in the log (and the one used for
    /// CSV files, which record none).
    public var configuration: PayloadConfiguration?
    /// The configuration for CSV input when none is given: the bundled example payload.
    public var defaultConfigurationPath: String?
    /// Skip CSV rows with errors (counted) instead of stopping at the first.
    public var skipBadRows = false
    /// Horizontal accuracy of a GPS fix when the log does not say, 1σ metres.
    public var gpsAccuracy = 2.5
    /// An autopilot log (tlog, DataFlash .bin, PX4 .ulg) whose positions and wind replace
    /// the sensor data's own, aligned by UTC.
    public var autopilotPath: String?

    public init(configuration: PayloadConfiguration? = nil, defaultConfigurationPath: String? = nil, skipBadRows: Bool = false) {
        self.configuration = configuration
        self.defaultConfigurationPath = defaultConfigurationPath
        self.skipBadRows = skipBadRows
    }
}

/// Where the configuration of a replay came from.
public enum ConfigurationOrigin: Sendable, Equatable {
    /// The one recorded in the log.
    case recorded
    /// A file given by the user (or the default for CSV).
    case file(String)
}

/// Everything a replay found.
public struct ReplayResult: Sendable {
    public var path: String
    public var format: FlightLogFormat
    public var configuration: PayloadConfiguration
    public var configurationOrigin: ConfigurationOrigin
    /// Add this to a time of the samples' clock to get UTC (µs since the epoch): 0 for
    /// CSV, whose times are UTC; from the log's clock records for a ULog file; nil when a
    /// log has no clock record (times stay on the drone's clock).
    public var utcOffset: Int64?
    /// Data rows (CSV) or data messages (ULog) read.
    public var records = 0
    public var samples = 0
    public var firstTime: UInt64?
    public var lastTime: UInt64 = 0
    public var health = PipelineHealth()
    /// CSV rows skipped for errors (with `skipBadRows`).
    public var badRows: [CSVError] = []
    /// CSV rows whose time went backwards.
    public var backwardRows = 0
    /// ULog: bytes at the end that did not form a whole message (a cut file).
    public var truncatedBytes = 0
    /// ULog: messages skipped (unknown topics, other loggers' data).
    public var skippedMessages = 0
    /// The drone's track; empty when the input has no positions.
    public var track: PoseTrack
    /// Wind records of the log.
    public var wind: [ULogWind] = []
    /// The replay's detections, in order.
    public var detections: [Detection] = []
    /// The geotag of each detection (same order), or why it has none.
    public var geotags: [Result<Geotag, GeotagFailure>] = []
    /// The detections recorded in flight (ULog), in order.
    public var recordedDetections: [Detection] = []
    /// Evidence samples (sorbent tubes) the daemon took, in the order they ended.
    public var tubes: [ULogTube] = []
    /// The daemon's own messages in the log (a sensor degraded, the autopilot link lost,
    /// recording stopped, a tube started), in time order.
    public var messages: [ULogLogMessage] = []
    /// Info messages of the log that are plain strings, by key.
    public var info: [String: String] = [:]
    /// The flight second by second in inlet time: whether any gas channel was in a hit, and
    /// the largest signal in noise units. What localisation and gas maps are made from.
    public var activity = ActivityLog()
    /// The autopilot log whose positions and wind replaced the input's own, if one was given.
    public var autopilot: AutopilotLog?
    /// With an autopilot log: how many positions the input itself had (replaced).
    public var ownPositions = 0

    /// A time of the samples' clock in UTC µs, when known.
    public func utc(_ time: UInt64) -> UInt64? {
        guard let utcOffset else { return nil }
        return UInt64(clamping: Int64(clamping: time) &+ utcOffset)
    }
}

/// Per second of inlet time, whether the fastest sensors were in a plume.
///
/// Only the payload's fastest gas channels count (those whose response time, the larger of
/// the sample period and the rise time constant, is within twice the fastest one's): a
/// slow electrochemical cell stays in a hit for tens of seconds after the drone has left
/// the plume, which would smear where the plume was along the track.
public struct ActivityLog: Sendable {
    /// The inlet time of the first second, µs; nil before the first sample.
    public private(set) var start: UInt64?
    /// Per second from `start`: whether a fast gas channel was in a hit.
    public private(set) var hit: [Bool] = []
    /// Per second: the largest fast-response-recovered signal of a fast gas channel, σ.
    public private(set) var sigma: [Double] = []
    /// Per channel index: whether it counts.
    public let counted: [Bool]

    /// - Parameter channels: The payload's channels.
    public init(channels: [ChannelSpec] = []) {
        func responseTime(_ c: ChannelSpec) -> Double { max(c.rateHz > 0 ? 1 / c.rateHz : 1, c.riseTauSeconds) }
        let fastest = channels.filter(\.kind.isGas).map(responseTime).min() ?? 0
        counted = channels.map { $0.kind.isGas && responseTime($0) <= 2 * fastest }
    }

    /// Notes a channel's state after a sample.
    /// - Parameters:
    ///   - time: The sample's inlet time (sample time minus the channel's delay), µs.
    mutating func note(time: UInt64, hit inHit: Bool, sigma value: Double) {
        if start == nil { start = time &- time % 1_000_000 }
        guard let start, time >= start else { return }
        let second = Int((time - start) / 1_000_000)
        guard second < 7 * 24 * 3600 else { return }  // a week of flight at most
        if second >= hit.count {
            hit.append(contentsOf: repeatElement(false, count: second + 1 - hit.count))
            sigma.append(contentsOf: repeatElement(0, count: second + 1 - sigma.count))
        }
        hit[second] = hit[second] || inHit
        if value.isFinite { sigma[second] = max(sigma[second], value) }
    }

    /// The middle of a second, µs inlet time.
    public func time(ofSecond i: Int) -> UInt64 { (start ?? 0) + UInt64(i) * 1_000_000 + 500_000 }

    /// Notes the state of a sample's channel, if it counts and its state is fresh.
    mutating func record(_ sample: Sample, pipeline: Pipeline, channels: [ChannelSpec]) {
        let c = Int(sample.channel)
        guard c < counted.count, counted[c], let snap = pipeline.snapshot(channel: c), snap.time == sample.time else { return }
        let delay = UInt64(max(0, channels[c].delaySeconds) * 1e6)
        guard sample.time >= delay else { return }
        note(time: sample.time - delay, hit: snap.inHit, sigma: snap.sigma)
    }
}

/// Runs the detection pipeline over a recorded flight (a Snuffel log or a CSV file),
/// geotags what it finds and compares it with what was detected in flight.
public enum Replay {
    /// Replays a file.
    ///
    /// - Parameters:
    ///   - path: A Snuffel flight log (`.ulg`) or a CSV file of samples.
    ///   - options: Configuration override and CSV handling.
    ///   - progress: Called now and then with the fraction of the file read (0...1).
    ///   - observe: Called with each sample after the pipeline has taken it (for
    ///     timelines); nil for none.
    /// - Returns: The detections, their geotags, the counts and the track.
    /// - Throws: ``ReplayError`` naming the file and what is wrong with it.
    public static func run(
        path: String, options: ReplayOptions = ReplayOptions(), progress: ((Double) -> Void)? = nil,
        observe: ((Sample, Pipeline) -> Void)? = nil
    ) throws(ReplayError) -> ReplayResult {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        var result: ReplayResult
        switch try FlightLogFormat.detect(path: path) {
        case .ulog:
            result = try replayULog(path: path, size: size, options: options, progress: progress, observe: observe)
        case .csv:
            result = try replayCSV(path: path, size: size, options: options, progress: progress, observe: observe)
        }
        if let autopilot = options.autopilotPath {
            try applyAutopilot(&result, path: autopilot)
            geotag(&result, options: options)
        }
        return result
    }

    /// Loads the configuration to use: the override, or (for CSV) the default file.
    static func configuration(_ options: ReplayOptions, path: String) throws(ReplayError) -> (PayloadConfiguration, ConfigurationOrigin) {
        if let given = options.configuration { return (given, .file(given.payloadFile.path)) }
        guard let fallback = options.defaultConfigurationPath else {
            throw ReplayError(path: path, reason: "a CSV file records no payload configuration: give one with --config")
        }
        do {
            return (try PayloadConfiguration.load(path: fallback), .file(fallback))
        } catch {
            throw ReplayError(path: fallback, reason: "the payload configuration was refused: \(error)")
        }
    }

    static func makePipeline(_ configuration: PayloadConfiguration, path: String) throws(ReplayError) -> Pipeline {
        do {
            return try Pipeline(configuration: configuration.pipeline)
        } catch {
            throw ReplayError(path: configuration.payloadFile.path, reason: "\(error)")
        }
    }

    // MARK: - CSV

    static func replayCSV(
        path: String, size: Int?, options: ReplayOptions, progress: ((Double) -> Void)?,
        observe: ((Sample, Pipeline) -> Void)?
    ) throws(ReplayError) -> ReplayResult {
        let (configuration, origin) = try Self.configuration(options, path: path)
        let pipeline = try makePipeline(configuration, path: path)
        var reader: CSVSampleReader
        do {
            reader = try CSVSampleReader(channelIDs: configuration.pipeline.channels.map(\.id), contentsOfFile: path)
        } catch {
            throw ReplayError(path: path, reason: "\(error)")
        }
        var result = ReplayResult(
            path: path, format: .csv, configuration: configuration, configurationOrigin: origin, utcOffset: 0,
            track: PoseTrack(points: []))
        result.activity = ActivityLog(channels: configuration.pipeline.channels)
        var points: [TrackPoint] = []
        let channels = configuration.pipeline.channels
        let hint = options.skipBadRows ? "" : "\n  (use --skip-bad-rows to skip such rows and count them)"
        reading: while true {
            switch Result(catching: { () throws(CSVError) -> CSVRow? in try reader.next() }) {
            case .success(nil):
                break reading
            case .failure(let error):
                if case .readFailed = error.reason { throw ReplayError(path: path, reason: "\(error)") }
                if case .noHeader = error.reason { throw ReplayError(path: path, reason: "\(error)") }
                guard reader.header != nil else { throw ReplayError(path: path, reason: "\(error)") }
                guard options.skipBadRows else { throw ReplayError(path: path, reason: "\(error)\(hint)") }
                result.badRows.append(error)
            case .success(let row?):
                result.records += 1
                if result.firstTime == nil { result.firstTime = row.time }
                result.lastTime = max(result.lastTime, row.time)
                for s in row.samples {
                    pipeline.process(s)
                    result.activity.record(s, pipeline: pipeline, channels: channels)
                    observe?(s, pipeline)
                }
                result.samples += row.samples.count
                if let lat = row.latitude, let lon = row.longitude {
                    points.append(TrackPoint(time: row.time, position: GeoPosition(latitude: lat, longitude: lon, altitude: row.altitude ?? 0)))
                }
                if let progress, let size, size > 0, result.records % 4096 == 0, let read = reader.fileBytesRead {
                    progress(Double(read) / Double(size))
                }
            }
        }
        if reader.header == nil { throw ReplayError(path: path, reason: "the file is empty") }
        pipeline.finish()
        result.backwardRows = reader.backwardRowCount
        result.health = pipeline.health
        result.detections = pipeline.drainDetections()
        result.track = PoseTrack(points: points)
        geotag(&result, options: options)
        progress?(1)
        return result
    }

    // MARK: - ULog

    static func replayULog(
        path: String, size: Int?, options: ReplayOptions, progress: ((Double) -> Void)?,
        observe: ((Sample, Pipeline) -> Void)?
    ) throws(ReplayError) -> ReplayResult {
        var reader: ULogReader
        do {
            reader = try ULogReader(contentsOfFile: path)
        } catch {
            throw ReplayError(path: path, reason: "\(error)")
        }
        var channelIDs: [String] = []
        var payloadTOML: String?
        var signaturesTOML: String?
        var calibrations: [String: String] = [:]
        var info: [String: String] = [:]
        var pipeline: Pipeline?
        var state: (configuration: PayloadConfiguration, origin: ConfigurationOrigin)?
        var points: [TrackPoint] = []
        var clocks: [ULogClock] = []
        var tubes: [ULogTube] = []
        var messages: [ULogLogMessage] = []
        var wind: [ULogWind] = []
        var recorded: [Detection] = []
        var activity = ActivityLog()
        var channels: [ChannelSpec] = []
        var records = 0, samples = 0
        var firstTime: UInt64?
        var lastTime: UInt64 = 0

        /// Builds the pipeline at the first data record, from what the header held.
        @inline(never)
        func start() throws(ReplayError) -> Pipeline {
            if let pipeline { return pipeline }
            let chosen: (PayloadConfiguration, ConfigurationOrigin)
            if let given = options.configuration {
                chosen = (given, .file(given.payloadFile.path))
            } else {
                guard let payloadTOML, let signaturesTOML else {
                    var reason = "the log records no payload configuration (\(SnuffelLogKey.payloadTOML)); give one with --config"
                    if records == 0 && channelIDs.isEmpty {
                        reason = "no Snuffel data in the log (\(reader.skippedMessageCount) messages of other kinds skipped"
                            + ((reader.truncatedByteCount ?? 0) > 0 ? ", \(reader.truncatedByteCount ?? 0) bytes at the end not a whole message" : "")
                            + "); is it a Snuffel flight log? If it is, give its configuration with --config"
                    }
                    throw ReplayError(path: path, reason: reason)
                }
                do {
                    chosen = (try PayloadConfiguration.parse(
                        text: payloadTOML, path: "\(path):\(SnuffelLogKey.payloadTOML)",
                        embedded: .init(signatures: signaturesTOML, calibrations: calibrations)), .recorded)
                } catch {
                    throw ReplayError(path: path, reason: "the configuration recorded in the log was refused: \(error)")
                }
            }
            let ids = chosen.0.pipeline.channels.map(\.id)
            if !channelIDs.isEmpty && ids != channelIDs {
                throw ReplayError(path: path, reason: """
                    the configuration's channels (\(ids.joined(separator: ", "))) are not the log's \
                    (\(channelIDs.joined(separator: ", "))): samples are stored by channel index, so the \
                    channels must be the same, in the same order
                    """)
            }
            state = chosen
            channels = chosen.0.pipeline.channels
            activity = ActivityLog(channels: channels)
            let made = try makePipeline(chosen.0, path: path)
            pipeline = made
            return made
        }

        var lastReport = 0
        reading: while true {
            let record: ULogRecord?
            do {
                record = try reader.next()
            } catch {
                throw ReplayError(path: path, reason: "\(error)")
            }
            guard let record else { break reading }
            switch record {
            case .info(let item), .multiInfo(let item):
                guard let text = item.value.string else { continue }
                switch item.key {
                case SnuffelLogKey.channelIDs: channelIDs.append(text)
                case SnuffelLogKey.payloadTOML: payloadTOML = text
                case SnuffelLogKey.signaturesTOML: signaturesTOML = text
                case let key where key.hasPrefix(SnuffelLogKey.calibrationTOMLPrefix):
                    calibrations[String(key.dropFirst(SnuffelLogKey.calibrationTOMLPrefix.count))] = text
                default: info[item.key] = text
                }
            case .sample(let s):
                // The pipeline is built at the first sample; `start()` is not inlined here:
                // it was, and then the 432-byte state it captures was copied three times a
                // record.
                let p: Pipeline
                if let pipeline { p = pipeline } else { p = try start() }
                p.process(s)
                activity.record(s, pipeline: p, channels: channels)
                observe?(s, p)
                records += 1
                samples += 1
                if firstTime == nil { firstTime = s.time }
                lastTime = max(lastTime, s.time)
            case .pose(let pose):
                records += 1
                points.append(TrackPoint(
                    time: pose.time,
                    position: GeoPosition(latitude: pose.latitude, longitude: pose.longitude, altitude: Double(pose.altitude)),
                    velocityNorth: Double(pose.velocityNorth), velocityEast: Double(pose.velocityEast)))
            case .wind(let w):
                records += 1
                wind.append(w)
            case .clock(let c):
                records += 1
                clocks.append(c)
            case .detection(let d, let complete):
                records += 1
                if complete { recorded.append(d) }
            case .tube(let t):
                records += 1
                tubes.append(t)
            case .logging(let m):
                records += 1
                messages.append(m)
            case .health, .dropout, .topic:
                records += 1
            }
            if let progress, let size, size > 0, reader.consumedByteCount - lastReport > 1 << 20 {
                lastReport = reader.consumedByteCount
                progress(Double(lastReport) / Double(size))
            }
        }
        let p = try start()
        p.finish()
        guard let (configuration, origin) = state else {
            throw ReplayError(path: path, reason: "internal: no configuration")
        }
        var result = ReplayResult(
            path: path, format: .ulog, configuration: configuration, configurationOrigin: origin,
            utcOffset: clocks.first.map { Int64(clamping: $0.utc) &- Int64(clamping: $0.time) },
            records: records, samples: samples, firstTime: firstTime, lastTime: lastTime, health: p.health,
            truncatedBytes: reader.truncatedByteCount ?? 0, skippedMessages: reader.skippedMessageCount,
            track: PoseTrack(points: points), wind: wind, recordedDetections: recorded, info: info, activity: activity)
        result.tubes = tubes
        result.messages = messages
        result.detections = p.drainDetections()
        geotag(&result, options: options)
        progress?(1)
        return result
    }

    static func geotag(_ result: inout ReplayResult, options: ReplayOptions) {
        let tagger = Geotagger(
            track: result.track, channels: result.configuration.pipeline.channels, gpsAccuracy: options.gpsAccuracy)
        result.geotags = result.detections.map { tagger.tag($0) }
    }
}

/// How the replay's detections compare with those recorded in flight.
public enum RecordedAgreement: Sendable, Equatable {
    /// The input records no detections (CSV, or a log without any).
    case nothingRecorded
    /// The same detections: count, times, class, alert, and every number equal to within
    /// the `float` the log stores them in.
    case same(count: Int)
    /// They differ; the first difference is described.
    case different(String)
}

extension ReplayResult {
    /// Compares the replay's detections with the recorded ones. With the configuration the
    /// log was recorded with, they are the same (the pipeline is deterministic); with an
    /// override they usually differ, and this says where first.
    public var agreement: RecordedAgreement {
        if recordedDetections.isEmpty && (format == .csv || detections.isEmpty) { return .nothingRecorded }
        let library = configuration.pipeline.library
        func name(_ d: Detection) -> String { d.signatureClass.map { library.classes[$0].id } ?? "unknown" }
        func close(_ a: Double, _ b: Double) -> Bool { Float(a) == Float(b) || abs(a - b) <= 1e-6 * max(1, abs(a)) }
        for (i, (r, d)) in zip(recordedDetections, detections).enumerated() {
            var what: [String] = []
            if r.onset != d.onset || r.peak != d.peak || r.end != d.end { what.append("times") }
            if r.signatureClass != d.signatureClass { what.append("class (\(name(r)) in flight, \(name(d)) now)") }
            if r.isAlert != d.isAlert { what.append("alert") }
            if !close(r.confidence, d.confidence) || !close(r.threatConfidence, d.threatConfidence) { what.append("confidence") }
            if r.channels.count != d.channels.count || r.compounds.count != d.compounds.count { what.append("evidence") }
            if !what.isEmpty { return .different("detection \(i): \(what.joined(separator: ", ")) differ") }
        }
        if recordedDetections.count != detections.count {
            return .different("\(recordedDetections.count) detections in flight, \(detections.count) now")
        }
        return .same(count: detections.count)
    }
}
