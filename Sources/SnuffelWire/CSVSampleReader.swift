import SnuffelCore

/// Decodes CSV sensor data into rows of samples, incrementally and in bounded memory.
///
/// The format: a header row whose first column is `time_us` (UNIX epoch microseconds,
/// UTC), then one column per channel named by its channel id, and optionally `lat`, `lon`
/// (WGS84 degrees) and `alt_m` (metres above mean sea level), in any order. Each further
/// line is a data row. An empty cell means no sample (or no coordinate). Lines whose
/// first non-blank character is `#` are comments; blank lines are skipped; both may
/// appear anywhere, before the header too. Lines end in `\n` or `\r\n`; the last line
/// needs no line end. A UTF-8 byte order mark at the start is skipped. Spaces, tabs and
/// carriage returns around cells are trimmed. Cells are not quoted: the format holds
/// only names and numbers.
///
/// ```
/// # flight 7, payload B
/// time_us,voc_raw,pid,lat,lon,alt_m
/// 1717243200000000,31012,0.5,52.0907,5.1214,41.2
/// 1717243200100000,,0.52,,,
/// ```
///
/// Values: `time_us` is a non-negative decimal integer; channel cells and `alt_m` are
/// decimal numbers (`-2.5`, `1e-3`; not `nan`, `inf` or hexadecimal, see ``CSVError``);
/// `lat` must lie in -90...90 and `lon` in -180...180. The reader does not require time
/// to increase: the pipeline rejects and counts out-of-order samples. It counts rows
/// whose time is earlier than the previous row's in ``backwardRowCount``.
///
/// The reader works like a swift-nio decoder. Give it bytes as they come with
/// ``append(contentsOf:)``, call ``next()`` until it returns nil (it needs more bytes: a
/// short read is not an error), and call ``finish()`` at the end of the input, then
/// ``next()`` again for the last rows. Given all bytes at once
/// (``init(channelIDs:bytes:ignoreUnknownColumns:maximumLineLength:)``) or a file
/// (``init(channelIDs:contentsOfFile:ignoreUnknownColumns:maximumLineLength:)``), it
/// needs no feeding and nil means the end. The same rows and errors come out however
/// the bytes are split.
///
/// Memory stays bounded by the longest line: a line of more than ``maximumLineLength``
/// bytes is an error. The reader holds at most one incomplete line plus the bytes last
/// appended (or one file chunk), never the parsed rows.
///
/// Errors: an error in the header is final, and every later call throws it again. An
/// error in a data row (or a line that is too long) drops that line only: the next call
/// to ``next()`` continues with the following line, so a caller may count bad rows and
/// go on, or stop at the first.
///
/// Copies of a reader are independent, including readers of a file.
public struct CSVSampleReader: Sendable {
    /// The default of ``maximumLineLength``: 64 KiB.
    public static let defaultMaximumLineLength = 65_536

    /// The payload's channel ids; a channel's index here is its `Sample.channel`.
    public let channelIDs: [String]
    /// Whether header columns that are not known are ignored rather than an error.
    public let ignoreUnknownColumns: Bool
    /// The most bytes a line may hold before its line feed (a `\r` counts).
    public let maximumLineLength: Int

    /// The header, once it has been read.
    public private(set) var header: CSVHeader?
    /// The data rows returned so far.
    public private(set) var rowCount = 0
    /// The data rows whose time is earlier than that of the row returned before them.
    public private(set) var backwardRowCount = 0

    // Input. `buffer[readIndex...]` is not yet consumed; `buffer[readIndex..<scanIndex]`
    // is known to hold no line feed; `lineNumber` is the line that starts at `readIndex`.
    var buffer: [UInt8] = []
    var readIndex = 0
    var scanIndex = 0
    var lineNumber = 1
    var inputEnded = false
    var skippingLongLine = false
    var file: FileSource?

    // Header state.
    let channelIndexByID: [String: UInt16]
    var roles: [ColumnRole] = []
    var channelColumnCount = 0
    var headerFailure: CSVError?
    var previousTime: UInt64?

    /// What a column holds.
    enum ColumnRole: Sendable, Equatable {
        case time
        case channel(UInt16)
        case latitude
        case longitude
        case altitude
        case ignored
    }

    /// Creates a reader that is fed bytes with ``append(contentsOf:)``.
    ///
    /// Channel ids are matched exactly (case matters). If an id appears twice, the header
    /// maps to the first. Channels past index 65,535 cannot be named, since
    /// `Sample.channel` is a `UInt16`. The names `time_us`, `lat`, `lon` and `alt_m` always
    /// mean time and position, even if a channel has that id.
    ///
    /// - Parameters:
    ///   - channelIDs: The payload's channel ids, in channel-index order.
    ///   - ignoreUnknownColumns: Whether to ignore header columns that are neither
    ///     reserved nor a channel id, rather than throw.
    ///   - maximumLineLength: The most bytes a line may hold; at least 1.
    public init(
        channelIDs: [String], ignoreUnknownColumns: Bool = false,
        maximumLineLength: Int = CSVSampleReader.defaultMaximumLineLength
    ) {
        self.channelIDs = channelIDs
        self.ignoreUnknownColumns = ignoreUnknownColumns
        self.maximumLineLength = max(1, maximumLineLength)
        var index: [String: UInt16] = [:]
        for (position, id) in channelIDs.prefix(Int(UInt16.max) + 1).enumerated() where index[id] == nil {
            index[id] = UInt16(position)
        }
        self.channelIndexByID = index
    }

    /// Creates a reader of bytes that are all at hand.
    ///
    /// The reader needs no ``append(contentsOf:)`` or ``finish()``: ``next()`` returns nil
    /// at the end of the bytes. A `[UInt8]` is not copied.
    ///
    /// - Parameters:
    ///   - channelIDs: The payload's channel ids, in channel-index order.
    ///   - bytes: The whole input.
    ///   - ignoreUnknownColumns: Whether to ignore unknown header columns.
    ///   - maximumLineLength: The most bytes a line may hold; at least 1.
    /// - Complexity: O(1) for an `Array`, else O(*n*) to copy the bytes.
    public init(
        channelIDs: [String], bytes: some Collection<UInt8>, ignoreUnknownColumns: Bool = false,
        maximumLineLength: Int = CSVSampleReader.defaultMaximumLineLength
    ) {
        self.init(
            channelIDs: channelIDs, ignoreUnknownColumns: ignoreUnknownColumns,
            maximumLineLength: maximumLineLength)
        self.buffer = Array(bytes)
        self.inputEnded = true
    }

    /// Adds bytes to the input.
    ///
    /// Call ``next()`` until it returns nil after each append: the reader bounds memory
    /// by consuming lines, not by refusing bytes.
    ///
    /// - Parameter bytes: The next bytes of the input, split anywhere.
    /// - Precondition: ``finish()`` has not been called, and the reader was not created
    ///   with all its bytes or from a file.
    /// - Complexity: O(*m* + *k*), where *m* is the number of bytes appended and *k* the
    ///   number of bytes held over from an incomplete line.
    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        precondition(!inputEnded && file == nil, "CSVSampleReader: append after the end of the input")
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Marks the end of the input.
    ///
    /// After this, ``next()`` returns a last line that has no line end, and nil means the
    /// end of the input. Calling it on a reader of bytes or of a file does nothing.
    public mutating func finish() {
        inputEnded = true
    }

    /// Reads the header if it has not been read, and returns it.
    ///
    /// ``next()`` reads the header by itself; call this to look at the columns before the
    /// first row.
    ///
    /// - Returns: The header, or nil if more bytes are needed.
    /// - Throws: ``CSVError`` if the header is wrong or the input ends without one. The
    ///   error is final: later calls throw it again.
    public mutating func readHeader() throws(CSVError) -> CSVHeader? {
        if let header { return header }
        if let headerFailure { throw headerFailure }
        do throws(CSVError) {
            while let line = try nextLine() {
                guard let start = contentStart(line) else { continue }
                let header = try parseHeader(line.number, start, line.end)
                self.header = header
                return header
            }
            if inputEnded && !skippingLongLine && readIndex == buffer.count {
                // The last line of the input (1 for an empty input).
                throw CSVError(line: max(1, lineNumber - 1), reason: .noHeader)
            }
            return nil
        } catch {
            headerFailure = error
            throw error
        }
    }

    /// Decodes the next data row.
    ///
    /// - Returns: The next row, or nil if more bytes are needed (or, once the input has
    ///   ended, at the end).
    /// - Throws: ``CSVError`` for a bad header (final) or a bad row (that row is dropped
    ///   and the next call continues after it).
    /// - Complexity: O(*n*) in the length of the lines consumed.
    public mutating func next() throws(CSVError) -> CSVRow? {
        if header == nil {
            guard try readHeader() != nil else { return nil }
        }
        while let line = try nextLine() {
            guard let start = contentStart(line) else { continue }
            let row = try parseRow(line.number, start, line.end)
            if let previousTime, row.time < previousTime { backwardRowCount += 1 }
            previousTime = row.time
            rowCount += 1
            return row
        }
        return nil
    }

    /// The number of input bytes held and not yet consumed.
    var bufferedByteCount: Int { buffer.count - readIndex }

    /// For a reader of a file, the bytes of the file read so far (for progress); nil for a
    /// reader fed with bytes.
    public var fileBytesRead: Int? { file.map { Int($0.offset) } }
}

// MARK: - Lines

extension CSVSampleReader {
    /// One complete line: its number and `buffer[start..<end]`, without the line feed.
    struct Line {
        var number: Int
        var start: Int
        var end: Int
    }

    /// Consumes and returns the next complete line.
    ///
    /// - Returns: The line, or nil if the buffer holds no complete line and no more input
    ///   is at hand.
    /// - Throws: ``CSVError/Reason/lineTooLong(limit:)`` when the line exceeds the limit;
    ///   the reader then skips to the line's end. Or a read error of a file.
    mutating func nextLine() throws(CSVError) -> Line? {
        while true {
            if skippingLongLine {
                if let newline = firstNewline(from: readIndex, to: buffer.count) {
                    consume(through: newline)
                    skippingLongLine = false
                } else {
                    readIndex = buffer.count
                    scanIndex = readIndex
                    if try refill() { continue }
                    return nil
                }
            }
            // Look no further than one byte past the longest line (written so that a
            // limit of Int.max cannot overflow).
            let windowEnd = buffer.count - readIndex > maximumLineLength
                ? readIndex + maximumLineLength + 1 : buffer.count
            if let newline = firstNewline(from: scanIndex, to: windowEnd) {
                let line = Line(number: lineNumber, start: readIndex, end: newline)
                consume(through: newline)
                return line
            }
            scanIndex = windowEnd
            if windowEnd - readIndex > maximumLineLength {
                let number = lineNumber
                skippingLongLine = true
                readIndex = windowEnd
                scanIndex = windowEnd
                throw CSVError(line: number, reason: .lineTooLong(limit: maximumLineLength))
            }
            if try refill() { continue }
            if inputEnded && readIndex < buffer.count {
                let line = Line(number: lineNumber, start: readIndex, end: buffer.count)
                consume(through: buffer.count - 1)
                return line
            }
            return nil
        }
    }

    /// Marks the bytes up to and including `index` consumed and starts the next line.
    private mutating func consume(through index: Int) {
        readIndex = index + 1
        scanIndex = readIndex
        lineNumber += 1
    }

    private func firstNewline(from start: Int, to end: Int) -> Int? {
        guard start < end else { return nil }
        return buffer[start..<end].firstIndex(of: UInt8(ascii: "\n"))
    }

    /// Drops the consumed bytes from the front of the buffer.
    private mutating func compact() {
        guard readIndex > 0 else { return }
        buffer.removeSubrange(0..<readIndex)
        scanIndex -= readIndex
        readIndex = 0
    }

    /// Appends the next chunk of the file to the buffer.
    ///
    /// - Returns: Whether bytes were added; false for a reader that is fed or at the end.
    private mutating func refill() throws(CSVError) -> Bool {
        guard !inputEnded, file != nil else { return false }
        compact()
        switch file?.read(appendingTo: &buffer) ?? .success(0) {
        case .success(let count):
            if count == 0 { inputEnded = true }
            return count > 0
        case .failure(let failure):
            inputEnded = true
            throw CSVError(line: lineNumber, reason: .readFailed(code: failure.code, message: failure.message))
        }
    }

    /// Where a line's content starts, or nil for a blank or comment line. Skips a byte
    /// order mark on line 1 and leading blanks.
    private func contentStart(_ line: Line) -> Int? {
        var start = line.start
        if line.number == 1, line.end - start >= 3,
            buffer[start] == 0xEF, buffer[start + 1] == 0xBB, buffer[start + 2] == 0xBF
        {
            start += 3
        }
        while start < line.end, isBlank(buffer[start]) { start += 1 }
        if start == line.end || buffer[start] == UInt8(ascii: "#") { return nil }
        return start
    }
}

// MARK: - Cells

/// Space, tab and carriage return: trimmed around cells.
private func isBlank(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
}

extension CSVSampleReader {
    /// The end of the cell that starts at `start`: the next comma or `end`.
    private func cellEnd(from start: Int, to end: Int) -> Int {
        var index = start
        while index < end, buffer[index] != UInt8(ascii: ",") { index += 1 }
        return index
    }

    /// `start..<end` without blanks on either side.
    private func trimmed(_ start: Int, _ end: Int) -> (start: Int, end: Int) {
        var start = start
        var end = end
        while start < end, isBlank(buffer[start]) { start += 1 }
        while end > start, isBlank(buffer[end - 1]) { end -= 1 }
        return (start, end)
    }

    /// The bytes as a string, cut to 40 bytes at a character boundary, for messages.
    private func excerpt(_ start: Int, _ end: Int) -> String {
        let limit = 40
        guard end - start > limit else { return String(decoding: buffer[start..<end], as: UTF8.self) }
        var cut = start + limit
        while cut > start, buffer[cut] & 0xC0 == 0x80 { cut -= 1 }
        return String(decoding: buffer[start..<cut], as: UTF8.self) + "…"
    }

    private func columnName(_ column: Int) -> String? {
        guard let header, column < header.columnNames.count else { return nil }
        let name = header.columnNames[column]
        guard name.utf8.count > 40 else { return name }
        return String(name.prefix(40)) + "…"
    }

    private func commaCount(_ start: Int, _ end: Int) -> Int {
        var count = 0
        for index in start..<end where buffer[index] == UInt8(ascii: ",") { count += 1 }
        return count
    }
}

// MARK: - Header and rows

extension CSVSampleReader {
    private mutating func parseHeader(_ line: Int, _ start: Int, _ end: Int) throws(CSVError) -> CSVHeader {
        var names: [String] = []
        var roles: [ColumnRole] = []
        var channels: [UInt16] = []
        var ignored: [String] = []
        var firstColumnByName: [String: Int] = [:]
        var cellStart = start
        while true {
            let cellStop = cellEnd(from: cellStart, to: end)
            let (nameStart, nameEnd) = trimmed(cellStart, cellStop)
            let column = names.count + 1
            let name = String(decoding: buffer[nameStart..<nameEnd], as: UTF8.self)
            func failure(_ reason: CSVError.Reason) -> CSVError {
                CSVError(line: line, column: column, columnName: nil, reason: reason)
            }
            if column == 1 {
                guard name == CSVColumnName.time else {
                    throw failure(.firstColumnNotTime(found: excerpt(nameStart, nameEnd)))
                }
            } else if name.isEmpty {
                throw failure(.emptyColumnName)
            }
            if let first = firstColumnByName[name] {
                throw failure(.duplicateColumn(name: excerpt(nameStart, nameEnd), firstColumn: first))
            }
            firstColumnByName[name] = column
            let role: ColumnRole
            switch name {
            case CSVColumnName.time: role = .time
            case CSVColumnName.latitude: role = .latitude
            case CSVColumnName.longitude: role = .longitude
            case CSVColumnName.altitude: role = .altitude
            default:
                if let channel = channelIndexByID[name] {
                    role = .channel(channel)
                    channels.append(channel)
                } else if ignoreUnknownColumns {
                    role = .ignored
                    ignored.append(name)
                } else {
                    throw failure(.unknownColumn(name: excerpt(nameStart, nameEnd), channelIDs: channelIDs))
                }
            }
            names.append(name)
            roles.append(role)
            if cellStop == end { break }
            cellStart = cellStop + 1
        }
        self.roles = roles
        self.channelColumnCount = channels.count
        return CSVHeader(
            line: line, columnNames: names, channels: channels, ignoredColumnNames: ignored,
            hasLatitude: roles.contains(.latitude), hasLongitude: roles.contains(.longitude),
            hasAltitude: roles.contains(.altitude))
    }

    private func parseRow(_ line: Int, _ start: Int, _ end: Int) throws(CSVError) -> CSVRow {
        let cellCount = commaCount(start, end) + 1
        if cellCount < roles.count {
            throw CSVError(
                line: line, column: cellCount + 1, columnName: columnName(cellCount),
                reason: .tooFewCells(found: cellCount, expected: roles.count))
        }
        if cellCount > roles.count {
            throw CSVError(
                line: line, column: roles.count + 1, columnName: nil,
                reason: .tooManyCells(found: cellCount, expected: roles.count))
        }
        var row = CSVRow(line: line, time: 0, samples: [])
        row.samples.reserveCapacity(channelColumnCount)
        var cellStart = start
        for (column, role) in roles.enumerated() {
            let cellStop = cellEnd(from: cellStart, to: end)
            defer { cellStart = cellStop + 1 }
            if role == .ignored { continue }
            let (valueStart, valueEnd) = trimmed(cellStart, cellStop)
            func failure(_ reason: CSVError.Reason) -> CSVError {
                CSVError(line: line, column: column + 1, columnName: columnName(column), reason: reason)
            }
            if role == .time {
                switch DecimalText.parseUnsigned(buffer, from: valueStart, to: valueEnd) {
                case .value(let time): row.time = time
                case .invalid where valueStart == valueEnd: throw failure(.emptyTime)
                case .invalid: throw failure(.notAnInteger(excerpt(valueStart, valueEnd)))
                case .outOfRange: throw failure(.integerOutOfRange(excerpt(valueStart, valueEnd)))
                }
                continue
            }
            if valueStart == valueEnd { continue }
            let value: Double
            switch DecimalText.parseDouble(buffer, from: valueStart, to: valueEnd) {
            case .value(let parsed): value = parsed
            case .invalid: throw failure(.notANumber(excerpt(valueStart, valueEnd)))
            case .outOfRange: throw failure(.numberOutOfRange(excerpt(valueStart, valueEnd)))
            }
            switch role {
            case .channel(let channel):
                row.samples.append(Sample(channel: channel, time: row.time, value: value))
            case .latitude:
                guard value >= -90 && value <= 90 else { throw failure(.latitudeOutOfRange(value)) }
                row.latitude = value
            case .longitude:
                guard value >= -180 && value <= 180 else { throw failure(.longitudeOutOfRange(value)) }
                row.longitude = value
            case .altitude:
                row.altitude = value
            case .time, .ignored:
                break
            }
        }
        return row
    }
}
