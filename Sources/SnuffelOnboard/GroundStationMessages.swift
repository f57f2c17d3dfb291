import SnuffelCore
import SnuffelWire

/// What the daemon tells the ground station over MAVLink: a STATUSTEXT for each detection
/// and a few live values as NAMED_VALUE_FLOAT, in forms QGroundControl and Mission Planner
/// show as they are.
public struct GroundStationMessages: Sendable {
    /// `MAV_SEVERITY` values used.
    public enum Severity: UInt8, Sendable {
        case critical = 2, warning = 4, notice = 5, info = 6
    }

    public let channels: [ChannelSpec]
    public let library: SignatureLibrary
    /// At or above this lab-or-dump confidence an alert is CRITICAL (QGroundControl pops it
    /// up and speaks it); below it an alert is a WARNING.
    public var criticalConfidence = 0.8

    public init(channels: [ChannelSpec], library: SignatureLibrary) {
        self.channels = channels
        self.library = library
    }

    /// The severity of a detection's message: a likely lab or dump is CRITICAL, a less
    /// certain alert a WARNING, a confounder INFO, anything else (a class that does not
    /// alert, or unknown) a NOTICE.
    public func severity(of d: Detection) -> Severity {
        if d.isAlert { return d.threatConfidence >= criticalConfidence ? .critical : .warning }
        return d.isConfounder ? .info : .notice
    }

    /// A detection's text, at most 50 characters so that it goes in one STATUSTEXT frame,
    /// e.g. `LAB? mdma-synthesis p0.87 51.44950,5.47852` or
    /// `smell manure (confounder) 0.90`.
    ///
    /// - Parameters:
    ///   - d: The detection.
    ///   - position: Where the drone was when the air entered the inlet (degrees), if known.
    public func text(of d: Detection, position: (latitude: Double, longitude: Double)? = nil) -> String {
        let name = d.signatureClass.map { library.classes[$0].id } ?? "unknown"
        var text: String
        if d.isAlert {
            text = "LAB? \(name) p\(CSVSampleWriter.decimal(d.threatConfidence, places: 2))"
        } else if d.isConfounder {
            text = "smell \(name) (confounder) \(CSVSampleWriter.decimal(d.confidence, places: 2))"
        } else {
            text = "smell \(name) \(CSVSampleWriter.decimal(d.confidence, places: 2))"
        }
        if let position, position.latitude.isFinite, position.longitude.isFinite {
            let place = " \(CSVSampleWriter.decimal(position.latitude, places: 5)),\(CSVSampleWriter.decimal(position.longitude, places: 5))"
            if text.utf8.count + place.utf8.count <= 50 { text += place }
        }
        return String(text.prefix(50))
    }

    /// The STATUSTEXT frames of a detection.
    public func frames(
        for d: Detection, position: (latitude: Double, longitude: Double)? = nil, encoder: inout MAVLinkEncoder
    ) -> [[UInt8]] {
        encoder.statusText(severity: severity(of: d).rawValue, text(of: d, position: position), id: UInt16(truncatingIfNeeded: d.sequence + 1))
    }

    /// The live values: `VOCIDX` and `NOXIDX` (Sensirion gas indices of the first SGP4x
    /// channels), `PID_PPB` (the first PID's excess over its baseline), `MAXSIGMA` (the
    /// largest signal of any gas channel, in noise units); names of at most 10 characters.
    /// Values not known yet are left out.
    public func liveValues(_ pipeline: Pipeline) -> [(name: String, value: Float)] {
        var out: [(String, Float)] = []
        var sigma = -Double.infinity
        var seen: Set<String> = []
        for (i, c) in channels.enumerated() {
            guard let snap = pipeline.snapshot(channel: i), snap.time != nil else { continue }
            if c.kind.isGas, snap.sigma.isFinite { sigma = max(sigma, snap.sigma) }
            switch c.kind {
            case .srawVOC where !seen.contains("VOCIDX"):
                if let index = snap.gasIndex { out.append(("VOCIDX", Float(index))); seen.insert("VOCIDX") }
            case .srawNOx where !seen.contains("NOXIDX"):
                if let index = snap.gasIndex { out.append(("NOXIDX", Float(index))); seen.insert("NOXIDX") }
            case .pid where !seen.contains("PID_PPB"):
                if snap.excess.isFinite { out.append(("PID_PPB", Float(snap.excess))); seen.insert("PID_PPB") }
            default:
                break
            }
        }
        if sigma.isFinite { out.append(("MAXSIGMA", Float(sigma))) }
        return out
    }
}
