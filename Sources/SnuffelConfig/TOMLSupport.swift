import Foundation
import TOMLKit

/// Reading configuration files: bounded, UTF-8 checked, parsed by TOMLKit, with every
/// failure turned into a ``ConfigurationError``.
enum ConfigurationFile {
    /// Files larger than this are refused rather than read (a configuration is a few kB).
    static let maximumBytes = 4 << 20

    /// Reads a whole text file.
    /// - Parameters:
    ///   - path: The file to read.
    ///   - referencedBy: The file and key that named `path`, if any; a missing file is then
    ///     reported there, where the user wrote the path.
    /// - Returns: The text, validated as UTF-8 without NUL bytes.
    static func read(path: String, referencedBy: (file: String, key: String, written: String)? = nil) throws(ConfigurationError) -> String {
        func refuse(_ reason: String) -> ConfigurationError {
            if let referencedBy {
                let shown = referencedBy.written == path ? "'\(path)'" : "'\(referencedBy.written)' (resolved to '\(path)')"
                return ConfigurationError(file: referencedBy.file, key: referencedBy.key, reason: "file \(shown) \(reason)")
            }
            return ConfigurationError(file: path, key: "", reason: reason)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw refuse("does not exist")
        }
        if isDirectory.boolValue { throw refuse("is a directory, not a file") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw refuse("cannot be opened for reading (check its permissions)") }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumBytes + 1) ?? Data()
        } catch {
            throw refuse("cannot be read: \(error.localizedDescription)")
        }
        if data.count > maximumBytes { throw refuse("is larger than \(maximumBytes >> 20) MiB; it cannot be a configuration file") }
        return try decode(Array(data), file: path)
    }

    /// Checks that `bytes` are UTF-8 without NUL and returns them as a string.
    static func decode(_ bytes: [UInt8], file: String) throws(ConfigurationError) -> String {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                offset += encoded.count
            case .error:
                let (line, column) = position(ofByte: offset, in: bytes)
                throw ConfigurationError(
                    file: file, key: "", reason: "the file is not valid UTF-8 (invalid byte 0x\(String(bytes[offset], radix: 16, uppercase: true)))",
                    line: line, column: column)
            case .emptyInput:
                break loop
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        try checkNoNUL(text, file: file)
        return text
    }

    /// TOML forbids raw control characters outside strings and comments; a NUL byte would
    /// also silently cut the document short when handed to the C++ parser.
    static func checkNoNUL(_ text: String, file: String) throws(ConfigurationError) {
        let bytes = Array(text.utf8)
        if let index = bytes.firstIndex(of: 0) {
            let (line, column) = position(ofByte: index, in: bytes)
            throw ConfigurationError(file: file, key: "", reason: "the file contains a NUL byte", line: line, column: column)
        }
    }

    static func position(ofByte offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return (line, offset - lineStart + 1)
    }

    /// Parses TOML text into its root table.
    static func parse(_ text: String, file: String) throws(ConfigurationError) -> TOMLTable {
        try checkNoNUL(text, file: file)
        if text.utf8.count > maximumBytes {
            throw ConfigurationError(file: file, key: "", reason: "the text is larger than \(maximumBytes >> 20) MiB; it cannot be a configuration file")
        }
        try screenForParserHazards(text, file: file)
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let line = error.source.begin.line
            let column = error.source.begin.column
            throw ConfigurationError(
                file: file, key: keyNear(line: line, in: text), reason: "TOML syntax error: \(error.description)",
                line: line > 0 ? line : nil, column: column > 0 ? column : nil)
        } catch {
            throw ConfigurationError(file: file, key: "", reason: "TOML parser failed: \(error)")
        }
    }

    /// Refuses, before the text reaches TOMLKit, what its parser cannot be trusted with.
    ///
    /// toml++ 3.4.0 (inside TOMLKit 0.6.0) skips some of its own input checks: after `[` or
    /// `[[` it enters its key parser without looking at the next character (`[[[`, `[&`, `[`
    /// at the end of a line; marzer/tomlplusplus issue #294, pull request #301), and after a
    /// date and `T` it enters its time parser without looking for a digit
    /// (`1979-05-27T:00`), and inside an array it takes `}` and the Unicode line separators
    /// (U+0085, U+2028, U+2029) for the start of a value. In a debug build these abort the
    /// process; in a release build they are undefined behaviour. This scan follows the text
    /// the way the parser does — table headers are a `[` first on a line, outside strings,
    /// comments and values — and refuses them with a syntax error. It also refuses escaped
    /// NUL characters, at which TOMLKit would silently cut strings and keys short. All were
    /// found by fuzzing the loader with libFuzzer against a debug build of toml++.
    static func screenForParserHazards(_ text: String, file: String) throws(ConfigurationError) {
        let bytes = Array(text.utf8)
        let n = bytes.count
        let quote = UInt8(ascii: "\""), apostrophe = UInt8(ascii: "'"), backslash = UInt8(ascii: "\\")
        let newline = UInt8(ascii: "\n"), hash = UInt8(ascii: "#")
        let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")
        let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
        func isBlank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        func isKeyStart(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
                || b == quote || b == apostrophe || b == closeBracket
        }
        func three(_ i: Int, _ b: UInt8) -> Bool { i + 2 < n && bytes[i] == b && bytes[i + 1] == b && bytes[i + 2] == b }
        func skipToLineEnd(_ i: inout Int) { while i < n && bytes[i] != newline { i += 1 } }
        // TOMLKit hands strings and keys to Swift as C strings: an escaped NUL would silently
        // cut them short, so it is refused.
        func checkEscape(at i: Int) throws(ConfigurationError) {
            func matches(_ escape: String) -> Bool {
                let pattern = Array(escape.utf8)
                return i + pattern.count < n && Array(bytes[(i + 1)...(i + pattern.count)]) == pattern
            }
            if matches("u0000") || matches("U00000000") {
                let (line, column) = position(ofByte: i, in: bytes)
                throw ConfigurationError(file: file, key: "", reason: "a string or key may not contain a NUL character", line: line, column: column)
            }
        }

        func hazard(at offset: Int, _ what: String) -> ConfigurationError {
            let (line, column) = position(ofByte: offset, in: bytes)
            return ConfigurationError(file: file, key: "", reason: "TOML syntax error: \(what)", line: line, column: column)
        }

        // The parser skips a UTF-8 byte-order mark at the start.
        var i = n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        var open: [UInt8] = []  // the [ and { of the values being read, innermost last
        var atStatementStart = true
        while i < n {
            let b = bytes[i]
            if b == newline {
                if open.isEmpty { atStatementStart = true }
                i += 1
                continue
            }
            if isBlank(b) || b == UInt8(ascii: "\r") {
                i += 1
                continue
            }
            if b == hash {
                skipToLineEnd(&i)
                continue
            }
            if atStatementStart && open.isEmpty && b == openBracket {
                var j = i + 1
                if j < n && bytes[j] == openBracket { j += 1 }
                while j < n && isBlank(bytes[j]) { j += 1 }
                if j < n && !isKeyStart(bytes[j]) {
                    throw hazard(at: j, "a table header starts with a key, as in [detection] or [[channels]]")
                }
                // The rest of the header line: quoted keys cannot span lines.
                while i < n && bytes[i] != newline {
                    if bytes[i] == backslash { try checkEscape(at: i) }
                    i += 1
                }
                continue
            }
            atStatementStart = false
            switch b {
            case quote, apostrophe:
                let escapes = b == quote
                if three(i, b) {
                    i += 3
                    while i < n && !three(i, b) {
                        if escapes && bytes[i] == backslash { try checkEscape(at: i); i += 2 } else { i += 1 }
                    }
                    i += 3
                    var extra = 0  // up to two quotes may touch the closing delimiter
                    while extra < 2 && i < n && bytes[i] == b { i += 1; extra += 1 }
                } else {
                    i += 1
                    while i < n && bytes[i] != b && bytes[i] != newline {
                        if escapes && bytes[i] == backslash { try checkEscape(at: i); i += 2 } else { i += 1 }
                    }
                    if i < n && bytes[i] == b { i += 1 }
                }
            case openBracket, openBrace:
                open.append(b)
                i += 1
            case closeBrace where open.last == openBracket:
                // Never valid TOML; toml++ hands it to its value parser as a value.
                throw hazard(at: i, "'}' inside an array")
            case closeBracket, closeBrace:
                _ = open.popLast()
                i += 1
            case 0xC2 where i + 1 < n && bytes[i + 1] == 0x85, 0xE2 where i + 2 < n && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                // U+0085, U+2028, U+2029: line separators toml++ neither skips nor refuses.
                throw hazard(at: i, "a Unicode line separator outside a string")
            default:
                // A date followed by 'T' must go on with the hour: toml++ enters its time
                // parser without checking for a digit ("1979-05-27T:00").
                if i + 11 < n && isDigit(b) && (bytes[i + 10] == UInt8(ascii: "T") || bytes[i + 10] == UInt8(ascii: "t"))
                    && bytes[i + 4] == UInt8(ascii: "-") && bytes[i + 7] == UInt8(ascii: "-")
                    && [1, 2, 3, 5, 6, 8, 9].allSatisfy({ isDigit(bytes[i + $0]) }) && !isDigit(bytes[i + 11])
                {
                    throw hazard(at: i + 11, "a date-time needs the hour after 'T'")
                }
                i += 1
            }
        }
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    /// Best-effort key path of the line a syntax error was found on, from the table
    /// headers above it (`channels[2].rate_hz`); empty when the line holds no key.
    static func keyNear(line target: Int, in text: String) -> String {
        guard target >= 1 else { return "" }
        var header = ""
        var arrayCounts: [String: Int] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if lineNumber > target { break }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[[") {
                let name = headerName(line, brackets: 2)
                let index = arrayCounts[name, default: 0]
                arrayCounts[name] = index + 1
                header = "\(name)[\(index)]"
                if lineNumber == target { return header }
            } else if line.hasPrefix("[") {
                let name = headerName(line, brackets: 1)
                // A sub-table of the last array element: [channels.calibration] → channels[n].calibration
                header = name
                for (array, count) in arrayCounts where name.hasPrefix(array + ".") {
                    header = "\(array)[\(count - 1)]" + name.dropFirst(array.count)
                }
                if lineNumber == target { return header }
            } else if lineNumber == target {
                guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { return header }
                let key = line[..<equals].trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty, key.count <= 100 else { return header }
                return header.isEmpty ? key : header + "." + key
            }
        }
        return header
    }

    private static func headerName(_ line: String, brackets: Int) -> String {
        var name = line.dropFirst(brackets)
        if let close = name.firstIndex(of: "]") { name = name[..<close] }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        return trimmed.count <= 100 ? trimmed : String(trimmed.prefix(100)) + "…"
    }

    /// Resolves a path written in a configuration file against the directory of that file.
    static func resolve(_ written: String, against baseDirectory: String) -> String {
        if written.hasPrefix("/") || baseDirectory.isEmpty { return (written as NSString).standardizingPath }
        return ((baseDirectory as NSString).appendingPathComponent(written) as NSString).standardizingPath
    }

    /// The directory of a file path ("" for a bare file name: the current directory).
    static func directory(of path: String) -> String {
        (path as NSString).deletingLastPathComponent
    }
}

/// Typed, path-aware access to one TOML table of a configuration file.
///
/// Creating a reader refuses keys the table may not hold; each accessor refuses a value of
/// the wrong type and names the full key path in the error.
struct TableReader {
    let table: TOMLTable
    let file: String
    /// Key path of this table from the top of the file; empty for the root table.
    let path: String

    /// - Parameters:
    ///   - allowed: The keys this table may hold; any other key is refused, with the closest
    ///     allowed key suggested.
    init(_ table: TOMLTable, file: String, path: String, allowed: [String]) throws(ConfigurationError) {
        self.table = table
        self.file = file
        self.path = path
        var seen = Set<String>()
        for key in table.keys where !seen.insert(key).inserted || table[key] == nil {
            throw ConfigurationError(file: file, key: self.key(key), reason: "a key may not contain a NUL character")
        }
        for key in table.keys where !allowed.contains(key) {
            var reason = "unknown key \(Self.quoted(key))"
            if let suggestion = Self.closest(to: key, among: allowed) { reason += "; did you mean '\(suggestion)'?" }
            reason += allowed.isEmpty ? "; this table takes no keys" : " (allowed here: \(allowed.joined(separator: ", ")))"
            throw ConfigurationError(file: file, key: self.key(key), reason: reason)
        }
    }

    /// The full key path of `name` in this table.
    func key(_ name: String) -> String {
        let segment = Self.segment(name)
        return path.isEmpty ? segment : path + "." + segment
    }

    func error(_ name: String?, _ reason: String) -> ConfigurationError {
        ConfigurationError(file: file, key: name.map(key) ?? path, reason: reason)
    }

    func value(_ name: String) -> TOMLValueConvertible? { table[name] }

    func contains(_ name: String) -> Bool { table[name] != nil }

    // MARK: Typed accessors

    func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let value = value(name) else { return nil }
        guard let string = value.string else { throw mismatch(name, expected: "a string", got: value) }
        return string
    }

    func requiredString(_ name: String, _ what: String) throws(ConfigurationError) -> String {
        guard let string = try string(name) else { throw missing(name, what) }
        return string
    }

    /// A number; an integer is accepted where a float is expected. Infinities and NaN are refused.
    func double(_ name: String) throws(ConfigurationError) -> Double? {
        guard let value = value(name) else { return nil }
        let number: Double
        if let d = value.double {
            number = d
        } else if let i = value.int {
            number = Double(i)
        } else {
            throw mismatch(name, expected: "a number", got: value)
        }
        guard number.isFinite else { throw error(name, "must be a finite number, got \(number)") }
        return number
    }

    func requiredDouble(_ name: String, _ what: String) throws(ConfigurationError) -> Double {
        guard let number = try double(name) else { throw missing(name, what) }
        return number
    }

    func int(_ name: String) throws(ConfigurationError) -> Int? {
        guard let value = value(name) else { return nil }
        guard let int = value.int else { throw mismatch(name, expected: "an integer", got: value) }
        return int
    }

    func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let value = value(name) else { return nil }
        guard let bool = value.bool else { throw mismatch(name, expected: "true or false", got: value) }
        return bool
    }

    func requiredBool(_ name: String, _ what: String) throws(ConfigurationError) -> Bool {
        guard let bool = try bool(name) else { throw missing(name, what) }
        return bool
    }

    /// A sub-table (a `[header]` table or an inline `{ ... }` table).
    func table(_ name: String, allowed: [String]) throws(ConfigurationError) -> TableReader? {
        guard let value = value(name) else { return nil }
        guard let sub = value.table else { throw mismatch(name, expected: "a table", got: value) }
        return try TableReader(sub, file: file, path: key(name), allowed: allowed)
    }

    /// A sub-table whose keys are free-form (ids); the caller checks each key.
    func openTable(_ name: String) throws(ConfigurationError) -> TOMLTable? {
        guard let value = value(name) else { return nil }
        guard let sub = value.table else { throw mismatch(name, expected: "a table", got: value) }
        return sub
    }

    /// An array of tables (`[[name]]` entries or an array of inline tables).
    func arrayOfTables(_ name: String) throws(ConfigurationError) -> [TOMLTable]? {
        guard let value = value(name) else { return nil }
        guard let array = value.array else { throw mismatch(name, expected: "an array of tables ([[\(name)]])", got: value) }
        var tables: [TOMLTable] = []
        tables.reserveCapacity(array.count)
        for index in 0..<array.count {
            let element = array[index]
            guard let table = element.table else {
                throw ConfigurationError(
                    file: file, key: key(name) + "[\(index)]",
                    reason: "expected a table ([[\(name)]] entry), got \(Self.describe(element))")
            }
            tables.append(table)
        }
        return tables
    }

    func missing(_ name: String, _ what: String) -> ConfigurationError {
        error(name, "missing required key '\(name)' (\(what))")
    }

    func mismatch(_ name: String, expected: String, got value: TOMLValueConvertible) -> ConfigurationError {
        error(name, "expected \(expected), got \(Self.describe(value))")
    }

    // MARK: Formatting helpers

    /// A short description of a TOML value for error messages.
    static func describe(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .string: return "string \(quoted(value.string ?? ""))"
        case .int: return "integer \(value.int.map(String.init) ?? "?")"
        case .double: return "floating-point number \(value.double.map { "\($0)" } ?? "?")"
        case .bool: return "boolean \(value.bool.map { "\($0)" } ?? "?")"
        case .table: return "a table"
        case .array: return "an array"
        case .date, .time, .dateTime: return "a \(value.type.description)"
        }
    }

    /// A string in single quotes, shortened and with control characters escaped.
    static func quoted(_ text: String) -> String {
        var shown = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == 60 { shown += "…"; break }
            shown += scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
            count += 1
        }
        return "'\(shown)'"
    }

    /// A key as it would be written in TOML: bare when possible, quoted otherwise.
    static func segment(_ name: String) -> String {
        isBare(name) ? name : "\"" + String(quoted(name).dropFirst().dropLast()).replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func isBare(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// The allowed key closest to `key`, if close enough to be a slip: one that starts or
    /// ends with it (`rate` for `rate_hz`), else one within a small edit distance.
    static func closest(to key: String, among candidates: [String]) -> String? {
        let lowered = key.lowercased()
        guard !lowered.isEmpty, lowered.count <= 64 else { return nil }
        func nearest(_ pool: [String]) -> (String, Int)? {
            var best: (String, Int)?
            for candidate in pool {
                let distance = editDistance(lowered, candidate)
                if distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
            }
            return best
        }
        if lowered.count >= 3 {
            let affixed = candidates.filter { $0.hasPrefix(lowered) || $0.hasSuffix(lowered) || lowered.hasPrefix($0) }
            if let (candidate, _) = nearest(affixed) { return candidate }
        }
        guard let (candidate, distance) = nearest(candidates), distance < candidate.count else { return nil }
        return distance <= max(2, candidate.count / 3) ? candidate : nil
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// Ids of channels, compounds and classes: they appear in key paths, logs and reports.
enum Identifier {
    static let rule = "1 to 64 characters among letters, digits, '_' and '-'"

    static func isValid(_ id: String) -> Bool { TableReader.isBare(id) }
}
