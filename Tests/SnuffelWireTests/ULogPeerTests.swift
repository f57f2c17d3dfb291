import Foundation
import SnuffelCore
import Testing

@testable import SnuffelWire

private let skipPeers = ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] == "1"
private let peerInstall = "pip install pyulog==1.3.0"

/// What `Tests/peers/ulog_peer.py` prints: pyulog's view of a file, every number as an
/// exact string (integers in decimal, reals as `f:` and the double's 16 hex digits).
private struct PyULogView: Decodable {
    struct Message: Decodable, Equatable {
        var level: String
        var timestamp: String
        var message: String
        var tag: String
    }

    var start: String
    var corrupt: Bool
    var info: [String: String]
    var multi: [String: [[String]]]
    /// `name/multi_id` → field → values.
    var topics: [String: [String: [String]]]
    var logging: [Message]
}

@Suite("ULog files read by pyulog 1.3.0")
struct ULogPeerTests {
    /// Writes the bytes to a file, runs the peer script on it and decodes its output, or
    /// records an issue and returns nil.
    private func readWithPyULog(_ bytes: [UInt8]) throws -> PyULogView? {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("peers/ulog_peer.py")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("snuffel-\(UUID().uuidString).ulg")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, file.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            Issue.record("""
                cannot start /usr/bin/env python3 (\(error)). Run scripts/test, which installs \
                the peer (\(peerInstall)); or set SNUFFEL_SKIP_PEERS=1 to skip.
                """)
            return nil
        }
        let json = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let cause = switch process.terminationStatus {
            case 127: "python3 is not installed"
            case 3: "the Python package pyulog is not installed"
            default: "the peer script failed with status \(process.terminationStatus)"
            }
            Issue.record("""
                \(cause). Run scripts/test, which installs the peer (\(peerInstall)); or set \
                SNUFFEL_SKIP_PEERS=1 to skip.
                \(message)
                """)
            return nil
        }
        return try JSONDecoder().decode(PyULogView.self, from: json)
    }

    @Test(
        "pyulog reads every topic, info and text message of our writer with the same values",
        .disabled(if: skipPeers, "SNUFFEL_SKIP_PEERS=1: the comparison with pyulog was skipped"))
    func sameValues() throws {
        let (bytes, expected) = makeULogFixture()
        guard let view = try readWithPyULog(bytes) else { return }
        #expect(!view.corrupt)
        #expect(view.start == "1000")
        #expect(view.info == ["sys_name": "Snuffel", "snuffel_version": "0.1"])
        #expect(view.multi["snuffel_channel_ids"] == [["voc_raw"], ["pid"], ["nh3"]])
        #expect(view.multi["snuffel_payload_toml"]?.map { $0.joined() } == [ulogPayloadTOML])
        #expect(view.multi["snuffel_calibration_toml_pid"]?.map { $0.joined() } == ["offset = 3 # PID zero, mV\n"])
        #expect((view.multi["snuffel_payload_toml"]?.first?.count ?? 0) > 1)
        #expect(view.multi["snuffel_signatures_toml"]?.map { $0.joined() } == [ulogSignaturesTOML])

        let columns = Self.columns(expected)
        #expect(Set(view.topics.keys) == Set(columns.keys))
        for (topic, fields) in columns {
            #expect(view.topics[topic] == fields, "\(topic)")
        }
        let messages: [PyULogView.Message] = expected.compactMap {
            guard case .logging(let m) = $0 else { return nil }
            return .init(level: String(m.level), timestamp: String(m.time), message: m.text, tag: m.tag.map(String.init) ?? "")
        }
        #expect(view.logging == messages)
    }

    @Test(
        "pyulog silently drops a message cut by truncation; our reader returns the same and reports the cut",
        .disabled(if: skipPeers, "SNUFFEL_SKIP_PEERS=1: the comparison with pyulog was skipped"))
    func truncatedFile() throws {
        let (bytes, _) = makeULogFixture()
        let cut = Array(bytes.dropLast(7))
        guard let view = try readWithPyULog(cut) else { return }
        let ours = ulogReadWhole(cut)
        #expect(ours.error == nil)
        #expect(ours.truncatedByteCount == 96 + 5 - 7)  // a health message is 2 + 96 + 3 bytes
        let columns = Self.columns(ulogDataRecords(ours.records))
        for (topic, fields) in columns {
            #expect(view.topics[topic] == fields, "\(topic)")
        }
    }

    // MARK: - The fixture's records as pyulog's columns

    private static func f(_ value: Double) -> String {
        let hex = String(value.bitPattern, radix: 16)
        return "f:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    private static func f(_ value: Float) -> String { f(Double(value)) }

    private static func b(_ value: Bool) -> String { value ? "1" : "0" }

    /// Builds `name/0` → field → values from records, in pyulog's field names.
    private static func columns(_ records: [ULogRecord]) -> [String: [String: [String]]] {
        var result: [String: [String: [String]]] = [:]
        func add(_ topic: String, _ row: KeyValuePairs<String, String>) {
            for (field, value) in row { result["\(topic)/0", default: [:]][field, default: []].append(value) }
        }
        for record in records {
            switch record {
            case .sample(let s):
                add("snuffel_sample", ["timestamp": "\(s.time)", "channel": "\(s.channel)", "status": "\(s.status)", "value": f(s.value)])
            case .pose(let p):
                add("snuffel_pose", [
                    "timestamp": "\(p.time)", "lat": f(p.latitude), "lon": f(p.longitude), "alt_m": f(p.altitude),
                    "roll": f(p.roll), "pitch": f(p.pitch), "yaw": f(p.yaw), "vn": f(p.velocityNorth),
                    "ve": f(p.velocityEast), "vd": f(p.velocityDown), "gps_time_us": "\(p.gpsTime)",
                ])
            case .wind(let w):
                add("snuffel_wind", ["timestamp": "\(w.time)", "north": f(w.north), "east": f(w.east), "down": f(w.down)])
            case .clock(let c):
                add("snuffel_clock", ["timestamp": "\(c.time)", "utc_us": "\(c.utc)"])
            case .tube(let t):
                add("snuffel_tube", [
                    "timestamp": "\(t.end)", "start": "\(t.start)", "end": "\(t.end)", "lat": f(t.latitude), "lon": f(t.longitude),
                    "alt_m": f(t.altitude), "detection": "\(t.detection ?? -1)", "tube": "\(t.tube)", "reason": "\(t.reason.rawValue)",
                    "complete": b(t.isComplete),
                ])
            case .health(let time, let h):
                let values = [
                    h.accepted, h.unknownChannel, h.nonFinite, h.outOfRange, h.outOfOrder, h.duplicate, h.gaps,
                    h.unconfirmedHits, h.truncatedEvents, h.humidityArtefacts, h.historyOverruns,
                ]
                result["snuffel_health/0", default: [:]]["timestamp", default: []].append("\(time)")
                for (name, value) in zip(ULogHealthField.names, values) {
                    result["snuffel_health/0", default: [:]][name, default: []].append("\(value)")
                }
            case .detection(let d, _):
                let t = "\(d.onset)"
                add("snuffel_detection", [
                    "timestamp": t, "onset": t, "peak": "\(d.peak)", "end": "\(d.end)", "sequence": "\(d.sequence)",
                    "class": "\(d.signatureClass ?? -1)", "confidence": f(Float(d.confidence)),
                    "threat_confidence": f(Float(d.threatConfidence)), "residual": f(Float(d.residual)),
                    "snr": f(Float(d.snr)), "channel_count": "\(d.channels.count)",
                    "compound_count": "\(d.compounds.count)", "score_count": "\(d.scores.count)",
                    "alert": b(d.isAlert), "confounder": b(d.isConfounder),
                ])
                for c in d.channels {
                    add("snuffel_detection_channel", [
                        "timestamp": t, "sequence": "\(d.sequence)", "channel": "\(c.channel)", "hit": b(c.hit),
                        "peak_excess": f(Float(c.peakExcess)), "peak_sigma": f(Float(c.peakSigma)),
                        "area": f(Float(c.area)), "coverage": f(Float(c.coverage)),
                        "rejected_in_window": "\(c.rejectedInWindow)",
                    ])
                }
                for c in d.compounds {
                    add("snuffel_detection_compound", [
                        "timestamp": t, "sequence": "\(d.sequence)", "compound": "\(c.compound)",
                        "dose": f(Float(c.dose)), "mean_ppm": f(Float(c.meanPPM)),
                    ])
                }
                for s in d.scores {
                    add("snuffel_detection_score", [
                        "timestamp": t, "sequence": "\(d.sequence)", "class": "\(s.signatureClass)", "misfit": f(Float(s.misfit)),
                    ])
                }
            default:
                break
            }
        }
        return result
    }
}
