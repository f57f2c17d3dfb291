/// A JSON value for GeoJSON properties, ordered keys.
///
/// Objects keep their keys in the order given (and may hold a key twice; the writer
/// writes what it is given). Equality compares numbers with `==`, so a NaN is unequal to
/// itself, as with `Double`.
public indirect enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer, written exactly.
    case integer(Int64)
    /// A number, written in the shortest form that reads back as the same `Double`
    /// (exponent form allowed, as JSON allows it); NaN and infinities are written `null`.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, keys in order.
    case object([(String, JSONValue)])

    /// Whether two values are the same: same case, equal payloads, objects with the same
    /// keys and values in the same order.
    /// - Parameters:
    ///   - lhs: One value.
    ///   - rhs: The other value.
    /// - Returns: Whether they are equal.
    /// - Complexity: O(n) in the size of the smaller value.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

extension JSONValue {
    /// Compact JSON text (RFC 8259) of the value: no white space, strings escaped (see
    /// ``JSONText/appendString(_:to:)``), non-finite numbers as `null`.
    /// - Returns: The text.
    /// - Complexity: O(n) in the size of the value.
    public func serialized() -> String {
        var text = ""
        JSONText.append(self, to: &text)
        return text
    }
}

/// Writing JSON text: values, escaped strings and plain-decimal numbers.
///
/// Other writers (KML, GPX, CSV exports, reports) use it to produce the same escaping
/// and number forms as the GeoJSON writer.
public enum JSONText {
    /// Appends a value's compact JSON text.
    /// - Parameters:
    ///   - value: The value.
    ///   - text: The text to append to.
    /// - Complexity: O(n) in the size of the value.
    public static func append(_ value: JSONValue, to text: inout String) {
        switch value {
        case .null: text += "null"
        case .bool(let b): text += b ? "true" : "false"
        case .integer(let i): text += String(i)
        case .number(let x): text += x.isFinite ? x.description : "null"
        case .string(let s): appendString(s, to: &text)
        case .array(let items):
            text += "["
            for (i, item) in items.enumerated() {
                if i > 0 { text += "," }
                append(item, to: &text)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (i, (key, item)) in members.enumerated() {
                if i > 0 { text += "," }
                appendString(key, to: &text)
                text += ":"
                append(item, to: &text)
            }
            text += "}"
        }
    }

    /// Appends a string as a JSON string literal (RFC 8259 § 7).
    ///
    /// Quotation mark and backslash are escaped with a backslash; the control characters
    /// U+0000...U+001F as `\uXXXX` (lower-case hexadecimal); everything else, non-ASCII
    /// included, is written as UTF-8.
    /// - Parameters:
    ///   - string: The string.
    ///   - text: The text to append to.
    /// - Complexity: O(n) in the length of the string.
    public static func appendString(_ string: String, to text: inout String) {
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar.value {
            case 0x22: text += "\\\""
            case 0x5C: text += "\\\\"
            case 0..<0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    /// A finite number as a plain decimal rounded to a number of decimals, never in
    /// exponent form: `-0.0000001`, `52.1234567`, `12345678901234567890.00`.
    ///
    /// Rounds half away from zero on the scaled value; a result that rounds to zero loses
    /// its sign (`0.00`, not `-0.00`).
    /// - Parameters:
    ///   - value: The number; must be finite (the result is `null` otherwise).
    ///   - decimals: Digits after the point, 0...15.
    /// - Returns: The text.
    /// - Complexity: O(digits).
    public static func plainDecimal(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "null" }
        let decimals = min(max(decimals, 0), 15)
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (value.magnitude * scale).rounded(.toNearestOrAwayFromZero)
        var digits: String
        if scaled < 9.0e18 {
            digits = String(UInt64(scaled))
        } else {
            // Beyond 2^53 every Double is an integer: its shortest form's digits followed
            // by zeros are exact enough, and the decimals are zeros.
            digits = integerDigits(value.magnitude) + String(repeating: "0", count: decimals)
        }
        if digits.count <= decimals {
            digits = String(repeating: "0", count: decimals + 1 - digits.count) + digits
        }
        let sign = value < 0 && digits.contains(where: { $0 != "0" }) ? "-" : ""
        guard decimals > 0 else { return sign + digits }
        let point = digits.index(digits.endIndex, offsetBy: -decimals)
        return sign + digits[..<point] + "." + digits[point...]
    }

    /// The decimal digits of a large integral Double (at least 1e16) from its shortest
    /// round-trip form, which Swift writes as `d.ddde+XX` for such values.
    private static func integerDigits(_ value: Double) -> String {
        let text = value.description
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }),
              let exponent = Int(text[text.index(after: e)...].filter { $0 != "+" })
        else {
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        }
        let mantissa = text[..<e].filter { $0 != "." }
        return mantissa + String(repeating: "0", count: max(0, exponent + 1 - mantissa.count))
    }
}
