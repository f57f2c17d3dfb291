import SnuffelCore
import Testing

@testable import SnuffelWire

// Values are compared with `==`: the reader must round each decimal text to the nearest
// Double, and so must the compiler for the same literal, so they are equal exactly.

@Suite struct CSVSampleReaderGoodInput {
    /// A file with a BOM, CRLF and LF line ends, comments, blank lines, empty cells,
    /// blanks around cells, a missing payload channel and a position.
    static let goodFile =
        "\u{FEFF}# Snuffel CSV export\r\n"
        + "\r\n"
        + "  # indented comment\n"
        + "time_us, voc_raw ,pid,nh3,temp,rh,lat,lon,alt_m\r\n"
        + "1717243200000000,31012,0.5,1.25,21.5,48,52.0907,5.1214,41.2\r\n"
        + "1717243200100000,,0.52,,,,,,\n"
        + "\t\n"
        + "# a comment between rows\n"
        + "1717243200200000, 31000 ,1e-3,-2.5,-3.75E+1,,-90,180,-12\n"
        + "1717243200300000,,,,,,52.1,,\r\n"

    @Test func rowsOfAGoodFile() throws {
        let events = decodeWhole(Self.goodFile)
        #expect(errors(events).isEmpty)
        #expect(
            rows(events) == [
                CSVRow(
                    line: 5, time: 1_717_243_200_000_000,
                    samples: [
                        Sample(channel: 0, time: 1_717_243_200_000_000, value: 31012),
                        Sample(channel: 3, time: 1_717_243_200_000_000, value: 0.5),
                        Sample(channel: 4, time: 1_717_243_200_000_000, value: 1.25),
                        Sample(channel: 7, time: 1_717_243_200_000_000, value: 21.5),
                        Sample(channel: 8, time: 1_717_243_200_000_000, value: 48),
                    ],
                    latitude: 52.0907, longitude: 5.1214, altitude: 41.2),
                CSVRow(
                    line: 6, time: 1_717_243_200_100_000,
                    samples: [Sample(channel: 3, time: 1_717_243_200_100_000, value: 0.52)]),
                CSVRow(
                    line: 9, time: 1_717_243_200_200_000,
                    samples: [
                        Sample(channel: 0, time: 1_717_243_200_200_000, value: 31000),
                        Sample(channel: 3, time: 1_717_243_200_200_000, value: 0.001),
                        Sample(channel: 4, time: 1_717_243_200_200_000, value: -2.5),
                        Sample(channel: 7, time: 1_717_243_200_200_000, value: -37.5),
                    ],
                    latitude: -90, longitude: 180, altitude: -12),
                CSVRow(line: 10, time: 1_717_243_200_300_000, samples: [], latitude: 52.1),
            ])
    }

    @Test func headerOfAGoodFile() throws {
        var reader = CSVSampleReader(channelIDs: referenceChannelIDs, bytes: Array(Self.goodFile.utf8))
        let header = try #require(try reader.readHeader())
        #expect(header.line == 4)
        #expect(header.columnNames == ["time_us", "voc_raw", "pid", "nh3", "temp", "rh", "lat", "lon", "alt_m"])
        #expect(header.channels == [0, 3, 4, 7, 8])
        #expect(header.contains(channel: 3))
        #expect(!header.contains(channel: 1))
        #expect(header.hasLatitude && header.hasLongitude && header.hasAltitude)
        #expect(header.ignoredColumnNames.isEmpty)
        #expect(reader.rowCount == 0)
        // Reading the header again returns it and consumes nothing.
        #expect(try reader.readHeader() == header)
        #expect(try reader.next()?.line == 5)
    }

    @Test func headerWithoutPositionOrChannels() throws {
        let events = decodeWhole("time_us\n5\n6\n")
        #expect(rows(events) == [CSVRow(line: 2, time: 5, samples: []), CSVRow(line: 3, time: 6, samples: [])])
        var reader = CSVSampleReader(channelIDs: referenceChannelIDs, bytes: Array("time_us,co\n".utf8))
        let header = try #require(try reader.readHeader())
        #expect(header.channels == [6])
        #expect(!header.hasLatitude && !header.hasLongitude && !header.hasAltitude)
        #expect(try reader.next() == nil)
    }

    @Test func anyChannelIDAndOrder() {
        let events = decodeWhole("time_us,lon,ens160_tvoc,lat\n10,5.5,412,52\n", channelIDs: ["pid", "ens160_tvoc"])
        #expect(
            rows(events) == [
                CSVRow(line: 2, time: 10, samples: [Sample(channel: 1, time: 10, value: 412)], latitude: 52, longitude: 5.5)
            ])
    }

    @Test func ignoredColumns() throws {
        let text = "time_us,pid,battery_v,note\n1,2,12.1,hello\n"
        var reader = CSVSampleReader(channelIDs: referenceChannelIDs, bytes: Array(text.utf8), ignoreUnknownColumns: true)
        #expect(try reader.readHeader()?.ignoredColumnNames == ["battery_v", "note"])
        #expect(try reader.next() == CSVRow(line: 2, time: 1, samples: [Sample(channel: 3, time: 1, value: 2)]))
        // An ignored column still counts as a cell.
        #expect(rows(decodeWhole("time_us,x\n1\n", ignoreUnknownColumns: true)).isEmpty)
    }

    @Test func lastLineWithoutLineEnd() {
        let text = "time_us,pid\n1,0.5\n2,0.75"
        #expect(rows(decodeWhole(text)).map(\.time) == [1, 2])
        #expect(rows(decodeWhole(text + "\r")).map(\.time) == [1, 2])

        // Fed: the last line only comes after finish().
        var reader = CSVSampleReader(channelIDs: referenceChannelIDs)
        reader.append(contentsOf: Array(text.utf8))
        var events: [ReaderEvent] = []
        drain(&reader, into: &events)
        #expect(rows(events).map(\.time) == [1])
        reader.finish()
        drain(&reader, into: &events)
        #expect(rows(events).map(\.time) == [1, 2])
        #expect(reader.bufferedByteCount == 0)
    }

    @Test func headerOnlyAndTruncatedHeader() throws {
        #expect(decodeWhole("time_us,pid").isEmpty)
        var reader = CSVSampleReader(channelIDs: referenceChannelIDs)
        reader.append(contentsOf: Array("time_us,p".utf8))
        #expect(try reader.readHeader() == nil)
        reader.append(contentsOf: Array("id\n7,".utf8))
        #expect(try reader.readHeader()?.channels == [3])
        #expect(try reader.next() == nil)
        reader.append(contentsOf: Array("8".utf8))
        #expect(try reader.next() == nil)
        reader.finish()
        #expect(try reader.next() == CSVRow(line: 2, time: 7, samples: [Sample(channel: 3, time: 7, value: 8)]))
        #expect(try reader.next() == nil)
    }

    @Test func timeMayGoBackwards() throws {
        let text = "time_us,pid\n10,1\n5,1\n5,1\n20,1\n3,1\n"
        var reader = CSVSampleReader(channelIDs: referenceChannelIDs, bytes: Array(text.utf8))
        var times: [UInt64] = []
        while let row = try reader.next() { times.append(row.time) }
        #expect(times == [10, 5, 5, 20, 3])
        #expect(reader.rowCount == 5)
        #expect(reader.backwardRowCount == 2)
    }

    @Test func timeExtremes() {
        let text = "time_us\n0\n00000000000000000000042\n18446744073709551615\n"
        #expect(rows(decodeWhole(text)).map(\.time) == [0, 42, UInt64.max])
    }

    @Test func duplicateChannelIDsMapToTheFirst() {
        let events = decodeWhole("time_us,pid\n1,2\n", channelIDs: ["co", "pid", "pid"])
        #expect(rows(events) == [CSVRow(line: 2, time: 1, samples: [Sample(channel: 1, time: 1, value: 2)])])
    }
}

@Suite struct CSVSampleReaderErrors {
    /// Decodes `text` and returns the descriptions of its errors.
    func errorDescriptions(_ text: String, ignoreUnknownColumns: Bool = false) -> [String] {
        errors(decodeWhole(text, channelIDs: ["voc_raw", "pid"], ignoreUnknownColumns: ignoreUnknownColumns))
            .map(\.description)
    }

    @Test func theExampleFromTheIssue() {
        let text = "# 1\n# 2\ntime_us,voc_raw,lat,pid\n" + String(repeating: "1,2,3,4\n", count: 8) + "1,2,3,1.2.3\n"
        let found = errors(decodeWhole(text, channelIDs: ["voc_raw", "pid"]))
        #expect(found == [CSVError(line: 12, column: 4, columnName: "pid", reason: .notANumber("1.2.3"))])
        #expect(found.first?.description == "line 12, column 4 (pid): not a number: '1.2.3'")
    }

    @Test(arguments: [
        ("pid,time_us\n", "line 1, column 1: the first column must be 'time_us', found 'pid'"),
        ("\u{FEFF}\n time_us2 ,pid\n", "line 2, column 1: the first column must be 'time_us', found 'time_us2'"),
        (",pid\n", "line 1, column 1: the first column must be 'time_us', found ''"),
        ("# c\ntime_us,pid,ch4\n",
         "line 2, column 3: unknown column 'ch4': the payload's channels are voc_raw, pid (other columns: lat, lon, alt_m)"),
        ("time_us,pid,pid\n", "line 1, column 3: duplicate column 'pid', first at column 2"),
        ("time_us,lat,pid,lat\n", "line 1, column 4: duplicate column 'lat', first at column 2"),
        ("time_us,pid,time_us\n", "line 1, column 3: duplicate column 'time_us', first at column 1"),
        ("time_us,,pid\n", "line 1, column 2: empty column name"),
        ("time_us,pid,\n", "line 1, column 3: empty column name"),
        ("", "line 1: no header row: the input is empty or holds only comments"),
        ("# only\n\n  \r\n", "line 3: no header row: the input is empty or holds only comments"),
        ("# only", "line 1: no header row: the input is empty or holds only comments"),
    ])
    func headerErrors(text: String, expected: String) {
        #expect(errorDescriptions(text) == [expected])
    }

    @Test func unknownColumnWithoutChannels() {
        let found = errors(decodeWhole("time_us,pid\n", channelIDs: []))
        #expect(found.map(\.description) == [
            "line 1, column 2: unknown column 'pid': the payload's channels are none (other columns: lat, lon, alt_m)"
        ])
    }

    @Test func headerErrorIsFinal() {
        var reader = CSVSampleReader(channelIDs: ["pid"], bytes: Array("time_us,co\n1,2\n".utf8))
        let expected = CSVError(line: 1, column: 2, reason: .unknownColumn(name: "co", channelIDs: ["pid"]))
        #expect(throws: expected) { try reader.next() }
        #expect(throws: expected) { try reader.next() }
        #expect(throws: expected) { try reader.readHeader() }
        #expect(reader.header == nil)
    }

    static let header = "time_us,voc_raw,pid,lat,lon,alt_m\n"

    @Test(arguments: [
        ("1,2,3,4,5\n", "line 2, column 6 (alt_m): too few cells: the row has 5, the header 6"),
        ("1\n", "line 2, column 2 (voc_raw): too few cells: the row has 1, the header 6"),
        ("1,2,3,4,5,6,7\n", "line 2, column 7: too many cells: the row has 7, the header 6"),
        ("1,2,3,4,5,6,\n", "line 2, column 7: too many cells: the row has 7, the header 6"),
        (",2,3,,,\n", "line 2, column 1 (time_us): empty time"),
        ("  ,,,,,\n", "line 2, column 1 (time_us): empty time"),
        ("1.5,,,,,\n", "line 2, column 1 (time_us): not a non-negative integer: '1.5'"),
        ("-1,,,,,\n", "line 2, column 1 (time_us): not a non-negative integer: '-1'"),
        ("+1,,,,,\n", "line 2, column 1 (time_us): not a non-negative integer: '+1'"),
        ("1e6,,,,,\n", "line 2, column 1 (time_us): not a non-negative integer: '1e6'"),
        ("1 000,,,,,\n", "line 2, column 1 (time_us): not a non-negative integer: '1 000'"),
        ("18446744073709551616,,,,,\n",
         "line 2, column 1 (time_us): integer larger than 18446744073709551615: '18446744073709551616'"),
        ("99999999999999999999999999,,,,,\n",
         "line 2, column 1 (time_us): integer larger than 18446744073709551615: '99999999999999999999999999'"),
        ("1,1.2.3,,,,\n", "line 2, column 2 (voc_raw): not a number: '1.2.3'"),
        ("1,,nan,,,\n", "line 2, column 3 (pid): not a number: 'nan'"),
        ("1,,NaN,,,\n", "line 2, column 3 (pid): not a number: 'NaN'"),
        ("1,,inf,,,\n", "line 2, column 3 (pid): not a number: 'inf'"),
        ("1,,-Infinity,,,\n", "line 2, column 3 (pid): not a number: '-Infinity'"),
        ("1,,0x1p3,,,\n", "line 2, column 3 (pid): not a number: '0x1p3'"),
        ("1,,1e,,,\n", "line 2, column 3 (pid): not a number: '1e'"),
        ("1,,1e+,,,\n", "line 2, column 3 (pid): not a number: '1e+'"),
        ("1,,.,,,\n", "line 2, column 3 (pid): not a number: '.'"),
        ("1,,-,,,\n", "line 2, column 3 (pid): not a number: '-'"),
        ("1,,1,5,,,\n", "line 2, column 7: too many cells: the row has 7, the header 6"),
        ("1,,\"1\",,,\n", "line 2, column 3 (pid): not a number: '\"1\"'"),
        ("1,,1 2,,,\n", "line 2, column 3 (pid): not a number: '1 2'"),
        ("1,,1e400,,,\n", "line 2, column 3 (pid): number out of range: '1e400'"),
        ("1,,-1.8e308,,,\n", "line 2, column 3 (pid): number out of range: '-1.8e308'"),
        ("1,,,90.5,,\n", "line 2, column 4 (lat): latitude 90.5 outside -90...90"),
        ("1,,,-91,,\n", "line 2, column 4 (lat): latitude -91.0 outside -90...90"),
        ("1,,,,180.000001,\n", "line 2, column 5 (lon): longitude 180.000001 outside -180...180"),
        ("1,,,,-181,\n", "line 2, column 5 (lon): longitude -181.0 outside -180...180"),
        ("1,,,,,1e999\n", "line 2, column 6 (alt_m): number out of range: '1e999'"),
        ("1,,,,,-\n", "line 2, column 6 (alt_m): not a number: '-'"),
        ("1,,\(String(repeating: "9", count: 50))x,,,\n",
         "line 2, column 3 (pid): not a number: '\(String(repeating: "9", count: 40))…'"),
    ])
    func rowErrors(row: String, expected: String) {
        #expect(errorDescriptions(Self.header + row) == [expected])
    }

    @Test func firstBadCellWins() {
        #expect(errorDescriptions(Self.header + "1,x,y,,,\n") == ["line 2, column 2 (voc_raw): not a number: 'x'"])
        // The cell count is checked before the cells.
        #expect(errorDescriptions(Self.header + "x,y\n") == [
            "line 2, column 3 (pid): too few cells: the row has 2, the header 6"
        ])
    }

    @Test func readingGoesOnAfterARowError() throws {
        let text = Self.header + "1,2,,,,\n2,oops,,,,\n\n3,4,,,,\n4,,,91,,\n5,,6,,,"
        var reader = CSVSampleReader(channelIDs: ["voc_raw", "pid"], bytes: Array(text.utf8))
        #expect(try reader.next()?.time == 1)
        #expect(throws: CSVError(line: 3, column: 2, columnName: "voc_raw", reason: .notANumber("oops"))) {
            try reader.next()
        }
        #expect(try reader.next()?.time == 3)
        #expect(throws: CSVError(line: 6, column: 4, columnName: "lat", reason: .latitudeOutOfRange(91))) {
            try reader.next()
        }
        #expect(try reader.next() == CSVRow(line: 7, time: 5, samples: [Sample(channel: 1, time: 5, value: 6)]))
        #expect(try reader.next() == nil)
        #expect(reader.rowCount == 3)
    }

    @Test func lineTooLong() throws {
        let long = "1," + String(repeating: "5", count: 100)
        let text = "time_us,pid\n\(long)\n2,3\n# \(long)\n4,5\n\(long)"
        let events = decodeWhole(Array(text.utf8), maximumLineLength: 64)
        #expect(
            events == [
                .error(CSVError(line: 2, reason: .lineTooLong(limit: 64))),
                .row(CSVRow(line: 3, time: 2, samples: [Sample(channel: 3, time: 2, value: 3)])),
                .error(CSVError(line: 4, reason: .lineTooLong(limit: 64))),
                .row(CSVRow(line: 5, time: 4, samples: [Sample(channel: 3, time: 4, value: 5)])),
                .error(CSVError(line: 6, reason: .lineTooLong(limit: 64))),
            ])
        #expect(errors(events).first?.description == "line 2: line longer than 64 bytes")
    }

    @Test func lineLengthLimitIsInclusive() {
        // 8 bytes before the line feed are allowed with a limit of 8; the \r counts.
        let text = "time_us\n12345678\n1234567\r\n12345678\r\n123456789"
        let events = decodeWhole(Array(text.utf8), maximumLineLength: 8)
        #expect(
            events == [
                .row(CSVRow(line: 2, time: 12_345_678, samples: [])),
                .row(CSVRow(line: 3, time: 1_234_567, samples: [])),
                .error(CSVError(line: 4, reason: .lineTooLong(limit: 8))),
                .error(CSVError(line: 5, reason: .lineTooLong(limit: 8))),
            ])
    }

    @Test func extremeLimits() {
        let text = "time_us\n1\n22\n"
        #expect(rows(decodeWhole(Array(text.utf8), maximumLineLength: .max)).map(\.time) == [1, 22])
        // A limit below 1 counts as 1.
        let tiny = CSVSampleReader(channelIDs: [], maximumLineLength: -5)
        #expect(tiny.maximumLineLength == 1)
        #expect(decodeWhole(Array("time_us\n".utf8), maximumLineLength: 0) == [
            .error(CSVError(line: 1, reason: .lineTooLong(limit: 1)))
        ])
    }

    @Test func headerTooLongIsFinal() {
        let text = "time_us," + String(repeating: "x", count: 100) + "\n1,2\n"
        #expect(decodeWhole(Array(text.utf8), maximumLineLength: 32) == [.error(CSVError(line: 1, reason: .lineTooLong(limit: 32)))])
    }
}
