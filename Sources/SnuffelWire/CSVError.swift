/// An error in CSV sensor data, with the line and column where it was found.
///
/// The description names the place first and then the reason, for example
/// `line 12, column 4 (pid): not a number: '1.2.3'`. Lines and columns count from 1;
/// columns are the comma-separated cells of the line. Text copied from the input into
/// the error is cut to 40 bytes, so a hostile file cannot make error messages huge.
public struct CSVError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The line, counted from 1 (comment and blank lines count).
    public var line: Int
    /// The column, counted from 1, or nil when the error concerns the whole line.
    public var column: Int?
    /// The column's name from the header, when the column has one.
    public var columnName: String?
    /// What is wrong.
    public var reason: Reason

    public init(line: Int, column: Int? = nil, columnName: String? = nil, reason: Reason) {
        self.line = line
        self.column = column
        self.columnName = columnName
        self.reason = reason
    }

    public var description: String {
        var text = "line \(line)"
        if let column {
            text += ", column \(column)"
            if let columnName { text += " (\(columnName))" }
        }
        return text + ": " + reason.description
    }

    /// What is wrong with the input.
    ///
    /// Cases that carry text carry it as it appears in the input, after trimming and
    /// cut to 40 bytes.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// The line holds more bytes than the reader's `maximumLineLength` before its
        /// line feed. The reader skips the rest of the line.
        case lineTooLong(limit: Int)
        /// The input ended before a header row (it is empty or holds only comments).
        /// The error's line is the input's last line (1 if the input is empty).
        case noHeader
        /// The header's first column is not `time_us`.
        case firstColumnNotTime(found: String)
        /// A header cell is empty.
        case emptyColumnName
        /// A header names a column that is neither `time_us`, `lat`, `lon`, `alt_m` nor
        /// one of the payload's channels.
        case unknownColumn(name: String, channelIDs: [String])
        /// A header names the same column twice.
        case duplicateColumn(name: String, firstColumn: Int)
        /// A data row has fewer cells than the header.
        case tooFewCells(found: Int, expected: Int)
        /// A data row has more cells than the header.
        case tooManyCells(found: Int, expected: Int)
        /// A data row's `time_us` cell is empty.
        case emptyTime
        /// A `time_us` cell is not a non-negative decimal integer.
        case notAnInteger(String)
        /// A `time_us` cell is larger than `UInt64.max`.
        case integerOutOfRange(String)
        /// A value cell is not a decimal number. `nan`, `inf` and hexadecimal numbers
        /// are refused too.
        case notANumber(String)
        /// A value cell is a decimal number too large for a `Double`.
        case numberOutOfRange(String)
        /// A `lat` cell is outside -90...90 degrees.
        case latitudeOutOfRange(Double)
        /// A `lon` cell is outside -180...180 degrees.
        case longitudeOutOfRange(Double)
        /// Reading the file failed; `code` is the `errno` value.
        case readFailed(code: Int32, message: String)

        public var description: String {
            switch self {
            case .lineTooLong(let limit):
                return "line longer than \(limit) bytes"
            case .noHeader:
                return "no header row: the input is empty or holds only comments"
            case .firstColumnNotTime(let found):
                return "the first column must be '\(CSVColumnName.time)', found '\(found)'"
            case .emptyColumnName:
                return "empty column name"
            case .unknownColumn(let name, let channelIDs):
                let channels = channelIDs.isEmpty ? "none" : channelIDs.joined(separator: ", ")
                return "unknown column '\(name)': the payload's channels are \(channels)"
                    + " (other columns: \(CSVColumnName.latitude), \(CSVColumnName.longitude),"
                    + " \(CSVColumnName.altitude))"
            case .duplicateColumn(let name, let firstColumn):
                return "duplicate column '\(name)', first at column \(firstColumn)"
            case .tooFewCells(let found, let expected):
                return "too few cells: the row has \(found), the header \(expected)"
            case .tooManyCells(let found, let expected):
                return "too many cells: the row has \(found), the header \(expected)"
            case .emptyTime:
                return "empty time"
            case .notAnInteger(let text):
                return "not a non-negative integer: '\(text)'"
            case .integerOutOfRange(let text):
                return "integer larger than \(UInt64.max): '\(text)'"
            case .notANumber(let text):
                return "not a number: '\(text)'"
            case .numberOutOfRange(let text):
                return "number out of range: '\(text)'"
            case .latitudeOutOfRange(let value):
                return "latitude \(value) outside -90...90"
            case .longitudeOutOfRange(let value):
                return "longitude \(value) outside -180...180"
            case .readFailed(let code, let message):
                return "read failed: \(message) (errno \(code))"
            }
        }
    }
}

/// The reserved column names of the CSV format.
enum CSVColumnName {
    static let time = "time_us"
    static let latitude = "lat"
    static let longitude = "lon"
    static let altitude = "alt_m"
}
