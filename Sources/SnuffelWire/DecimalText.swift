/// Parsing of decimal numbers from ASCII bytes, locale-independent and strict.
///
/// Integers are digits only: no sign, no decimal point, no exponent, no digit
/// separators.
///
/// Floating-point numbers follow `[+-]? (digits ('.' digits?)? | '.' digits)
/// ([eE] [+-]? digits)?`. Everything else is refused, in particular `nan`, `inf`,
/// `infinity`, hexadecimal floats such as `0x1p3`, and surrounding whitespace (the
/// caller trims cells). Numbers whose magnitude exceeds `Double.greatestFiniteMagnitude`
/// are out of range; numbers too small for a `Double` become zero.
///
/// Conversion is correctly rounded. Numbers whose significant digits form an integer of
/// at most 2^53 (all of 15 digits or fewer) and whose decimal exponent, after moving the
/// point behind the last digit, lies in -22...22 take Clinger's exact fast path: one
/// exact integer-to-double conversion and one multiplication or division by an exact
/// power of ten, so one rounding, and no allocation. Sensor values and coordinates
/// almost always do. The rest go to the standard library's `Double(_: String)`, which
/// is correctly rounded and parses in the C locale whatever the process's locale.
/// The grammar is checked here first, so that function never sees `nan`, `inf` or hex.
enum DecimalText {
    /// The outcome of parsing one number.
    enum Parsed<Value: Equatable>: Equatable {
        case value(Value)
        /// The text does not follow the grammar.
        case invalid
        /// The text follows the grammar but its value does not fit the type.
        case outOfRange
    }

    /// Parses a non-negative decimal integer.
    ///
    /// - Parameters:
    ///   - bytes: The input.
    ///   - start: The first byte of the number.
    ///   - end: One past the last byte of the number.
    /// - Returns: The value, `.invalid` if the range is empty or holds anything but
    ///   digits, or `.outOfRange` if the value exceeds `UInt64.max`.
    /// - Complexity: O(`end - start`).
    static func parseUnsigned(_ bytes: [UInt8], from start: Int, to end: Int) -> Parsed<UInt64> {
        guard start < end else { return .invalid }
        var value: UInt64 = 0
        var overflowed = false
        for index in start..<end {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return .invalid }
            if overflowed { continue }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
            if o1 || o2 { overflowed = true } else { value = sum }
        }
        return overflowed ? .outOfRange : .value(value)
    }

    /// Parses a decimal floating-point number.
    ///
    /// - Parameters:
    ///   - bytes: The input.
    ///   - start: The first byte of the number.
    ///   - end: One past the last byte of the number.
    /// - Returns: The correctly rounded value, `.invalid` if the text does not follow the
    ///   grammar in ``DecimalText``, or `.outOfRange` if it rounds to infinity.
    /// - Complexity: O(`end - start`).
    static func parseDouble(_ bytes: [UInt8], from start: Int, to end: Int) -> Parsed<Double> {
        var index = start
        var negative = false
        if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        // Up to 19 significant digits fit a UInt64 exactly.
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var truncated = false
        var exponent = 0
        var sawDigit = false
        while index < end {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            sawDigit = true
            if mantissa == 0 && digit == 0 {
                // A leading zero: no significance.
            } else if significantDigits < 19 {
                mantissa = mantissa &* 10 &+ UInt64(digit)
                significantDigits += 1
            } else {
                exponent += 1
                truncated = true
            }
            index += 1
        }
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < end {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                sawDigit = true
                if mantissa == 0 && digit == 0 {
                    exponent -= 1
                } else if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    significantDigits += 1
                    exponent -= 1
                } else {
                    truncated = true
                }
                index += 1
            }
        }
        guard sawDigit else { return .invalid }
        if index < end, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var exponentNegative = false
            if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var written = 0
            var sawExponentDigit = false
            while index < end {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { break }
                sawExponentDigit = true
                // Far beyond any double's range; capping keeps the sum from overflowing.
                if written < 1_000_000 { written = written * 10 + Int(digit) }
                index += 1
            }
            guard sawExponentDigit else { return .invalid }
            exponent += exponentNegative ? -written : written
        }
        guard index == end else { return .invalid }

        if mantissa == 0 { return .value(negative ? -0.0 : 0.0) }
        // Clinger's fast path: both operands exact, so the one rounding is correct.
        if !truncated && mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            if exponent >= 0 {
                value *= exactPowersOfTen[exponent]
            } else {
                value /= exactPowersOfTen[-exponent]
            }
            return .value(negative ? -value : value)
        }
        guard let value = Double(String(decoding: bytes[start..<end], as: UTF8.self)) else {
            return .invalid
        }
        return value.isFinite ? .value(value) : .outOfRange
    }

    /// 10^0 ... 10^22, the powers of ten that a `Double` holds exactly.
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
}
