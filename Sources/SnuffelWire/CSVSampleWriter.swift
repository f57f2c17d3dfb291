import SnuffelCore

/// Writes sensor data in the CSV import format that ``CSVSampleReader`` reads: a header
/// `time_us`, one column per channel, optionally `lat`, `lon`, `alt_m`; one row per time.
///
/// Values are written as the parts report them: SRAW ticks and resistances as integers,
/// PID readings with 2 decimals, electrochemical cells with 4, temperature and humidity
/// with 2; coordinates with 7 decimals (about 1 cm) and altitude with 2.
public struct CSVSampleWriter: Sendable {
    public let channels: [ChannelSpec]
    /// Whether rows have `lat`, `lon` and `alt_m` columns.
    public let hasPosition: Bool

    public init(channels: [ChannelSpec], hasPosition: Bool) {
        self.channels = channels
        self.hasPosition = hasPosition
    }

    /// The header line, with its line end.
    public var header: String {
        "time_us," + channels.map(\.id).joined(separator: ",") + (hasPosition ? ",lat,lon,alt_m" : "") + "\n"
    }

    /// One data row, with its line end.
    ///
    /// - Parameters:
    ///   - time: The row's time, UNIX epoch µs.
    ///   - samples: The row's samples (channel indices into ``channels``; others ignored).
    ///     A channel without a sample gets an empty cell.
    ///   - position: Latitude, longitude (degrees) and altitude (m), or nil for empty cells.
    public func row(time: UInt64, samples: some Sequence<Sample>, position: (latitude: Double, longitude: Double, altitude: Double)? = nil) -> String {
        var cells = Array(repeating: "", count: channels.count)
        for s in samples where Int(s.channel) < channels.count {
            cells[Int(s.channel)] = Self.format(s.value, kind: channels[Int(s.channel)].kind)
        }
        var line = "\(time)," + cells.joined(separator: ",")
        if hasPosition {
            if let position {
                line += "," + Self.decimal(position.latitude, places: 7) + "," + Self.decimal(position.longitude, places: 7)
                    + "," + Self.decimal(position.altitude, places: 2)
            } else {
                line += ",,,"
            }
        }
        return line + "\n"
    }

    /// A value as the part of its kind reports it.
    public static func format(_ v: Double, kind: ChannelKind) -> String {
        switch kind {
        case .srawVOC, .srawNOx, .moxResistance: return String(Int64(v.rounded()))
        case .pid: return decimal(v, places: 2)
        case .electrochemical: return decimal(v, places: 4)
        case .temperature, .humidity: return decimal(v, places: 2)
        }
    }

    /// A plain decimal with a fixed number of places (no exponent), e.g. `-0.0042`.
    public static func decimal(_ v: Double, places: Int) -> String {
        guard v.isFinite else { return "" }
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let n = Int64((abs(v) * scale).rounded())
        let unit = Int64(scale)
        let whole = n / unit
        var fraction = String(n % unit)
        while fraction.count < places { fraction = "0" + fraction }
        return (v < 0 && n != 0 ? "-" : "") + (places > 0 ? "\(whole).\(fraction)" : "\(whole)")
    }
}
