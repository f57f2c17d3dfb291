import SnuffelCore

/// One data row of a CSV sensor file: its time, its samples and where the drone was.
public struct CSVRow: Sendable, Equatable {
    /// The row's line in the input, counted from 1.
    public var line: Int
    /// The `time_us` cell: UNIX epoch microseconds, UTC.
    public var time: UInt64
    /// One sample per non-empty channel cell, in column order, each with the row's time.
    public var samples: [Sample]
    /// The `lat` cell, WGS84 degrees in -90...90; nil if the cell is empty or the column
    /// is absent.
    public var latitude: Double?
    /// The `lon` cell, WGS84 degrees in -180...180; nil if the cell is empty or the column
    /// is absent.
    public var longitude: Double?
    /// The `alt_m` cell, metres above mean sea level; nil if the cell is empty or the
    /// column is absent.
    public var altitude: Double?

    public init(
        line: Int, time: UInt64, samples: [Sample],
        latitude: Double? = nil, longitude: Double? = nil, altitude: Double? = nil
    ) {
        self.line = line
        self.time = time
        self.samples = samples
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
    }
}

/// The header row of a CSV sensor file: which columns the file has.
public struct CSVHeader: Sendable, Equatable {
    /// The header's line in the input, counted from 1.
    public var line: Int
    /// The column names as written, trimmed, in column order.
    public var columnNames: [String]
    /// The indices, in the payload's channel list, of the channels the file has a column
    /// for, in column order. A payload channel missing here never has samples.
    public var channels: [UInt16]
    /// Columns that are not known and were ignored (only with `ignoreUnknownColumns`).
    public var ignoredColumnNames: [String]
    /// Whether the file has a `lat` column.
    public var hasLatitude: Bool
    /// Whether the file has a `lon` column.
    public var hasLongitude: Bool
    /// Whether the file has an `alt_m` column.
    public var hasAltitude: Bool

    public init(
        line: Int, columnNames: [String], channels: [UInt16], ignoredColumnNames: [String] = [],
        hasLatitude: Bool = false, hasLongitude: Bool = false, hasAltitude: Bool = false
    ) {
        self.line = line
        self.columnNames = columnNames
        self.channels = channels
        self.ignoredColumnNames = ignoredColumnNames
        self.hasLatitude = hasLatitude
        self.hasLongitude = hasLongitude
        self.hasAltitude = hasAltitude
    }

    /// Whether the file has a column for a channel.
    ///
    /// - Parameter channel: The channel's index in the payload's channel list.
    /// - Returns: `true` if the header names the channel.
    /// - Complexity: O(*n*), where *n* is the number of channel columns.
    public func contains(channel: UInt16) -> Bool {
        channels.contains(channel)
    }
}
