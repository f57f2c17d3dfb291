import Testing

@testable import SnuffelWire

@Suite struct DecimalTextParsing {
    func double(_ text: String) -> DecimalText.Parsed<Double> {
        let bytes = Array(text.utf8)
        return DecimalText.parseDouble(bytes, from: 0, to: bytes.count)
    }

    func unsigned(_ text: String) -> DecimalText.Parsed<UInt64> {
        let bytes = Array(text.utf8)
        return DecimalText.parseUnsigned(bytes, from: 0, to: bytes.count)
    }

    // Exact equality is intended: parsing must round correctly, like the compiler does
    // for the same literal.
    @Test(arguments: [
        ("0", 0.0), ("-0", -0.0), ("+1", 1.0), ("1.", 1.0), (".5", 0.5), ("-2.5", -2.5),
        ("1e-3", 1e-3), ("1E3", 1000.0), ("1e+3", 1000.0), ("0.1", 0.1), ("0.3", 0.3),
        ("000123.4500", 123.45), ("31012", 31012.0), ("52.0907", 52.0907),
        ("9007199254740993", 9007199254740993.0), ("1.7976931348623157e308", 1.7976931348623157e308),
        ("4.9e-324", Double.leastNonzeroMagnitude), ("1e-400", 0.0), ("123456789012345678901234567890", 123456789012345678901234567890.0),
        ("0.000000000000000000000000000001", 1e-30), ("1e00000000000000000000000022", 1e22),
        ("2.2250738585072011e-308", Double(bitPattern: 0x000F_FFFF_FFFF_FFFF)),
    ])
    func accepted(text: String, expected: Double) {
        guard case .value(let value) = double(text) else {
            Issue.record("\(text) was refused")
            return
        }
        #expect(value == expected && value.sign == expected.sign, "\(text)")
    }

    @Test(arguments: [
        "", "+", "-", ".", "e3", ".e3", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "--1", "+-1", "1e3.5",
        "nan", "NaN", "inf", "-inf", "Infinity", "0x1p3", "0x10", "1_000", "١", "1d", "1f",
    ])
    func refused(text: String) {
        #expect(double(text) == .invalid, "\(text)")
    }

    @Test func outOfRange() {
        #expect(double("1e309") == .outOfRange)
        #expect(double("-1.8e308") == .outOfRange)
        #expect(double("1" + String(repeating: "0", count: 400)) == .outOfRange)
        #expect(double("1e99999999999999999999") == .outOfRange)
        #expect(double("1e-99999999999999999999") == .value(0))
    }

    @Test func agreesWithTheStandardLibrary() {
        var generator = SplitMix64(seed: 4)
        for _ in 0..<100_000 {
            var text = Bool.random(using: &generator) ? "-" : ""
            let integerDigits = Int.random(in: 0...20, using: &generator)
            let fractionDigits = Int.random(in: integerDigits == 0 ? 1...20 : 0...20, using: &generator)
            for _ in 0..<integerDigits { text += String(Int.random(in: 0...9, using: &generator)) }
            if fractionDigits > 0 || Bool.random(using: &generator) { text += "." }
            for _ in 0..<fractionDigits { text += String(Int.random(in: 0...9, using: &generator)) }
            if Bool.random(using: &generator) { text += "e\(Int.random(in: -330...310, using: &generator))" }
            let expected = Double(text)!
            if expected.isFinite {
                #expect(double(text) == .value(expected), "\(text)")
            } else {
                #expect(double(text) == .outOfRange, "\(text)")
            }
        }
    }

    @Test func integers() {
        #expect(unsigned("0") == .value(0))
        #expect(unsigned("18446744073709551615") == .value(.max))
        #expect(unsigned("18446744073709551616") == .outOfRange)
        #expect(unsigned("1844674407370955161500") == .outOfRange)
        #expect(unsigned("184467440737095516150x") == .invalid)
        for text in ["", "+1", "-1", "1.0", "1e3", " 1", "0x10"] {
            #expect(unsigned(text) == .invalid, "\(text)")
        }
    }
}
