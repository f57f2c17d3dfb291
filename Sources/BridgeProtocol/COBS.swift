/// Consistent Overhead Byte Stuffing (Cheshire and Baker, "Consistent Overhead Byte
/// Stuffing", IEEE/ACM Transactions on Networking 7(2), 1999).
///
/// COBS removes every zero byte from a frame at a cost of one byte per 254, so a zero
/// byte can mark the end of each frame on the wire: a receiver that starts in the middle
/// of a frame, or meets garbage, is in step again at the next zero.
public enum COBS {
    /// The most bytes ``encode(_:appendingTo:)`` appends for `count` input bytes.
    ///
    /// - Complexity: O(1).
    @inlinable
    public static func maximumEncodedCount(forRawCount count: Int) -> Int {
        count + count / 254 + 1
    }

    /// Appends the COBS encoding of `raw` (without a delimiter) to `output`.
    ///
    /// - Parameters:
    ///   - raw: The bytes to encode; any values.
    ///   - output: Receives the encoded bytes, none of which is zero.
    /// - Complexity: O(*n*).
    public static func encode(_ raw: some Sequence<UInt8>, appendingTo output: inout [UInt8]) {
        var codeIndex = output.count
        output.append(0)
        var code: UInt8 = 1
        for byte in raw {
            if byte != 0 {
                output.append(byte)
                code += 1
                guard code == 0xFF else { continue }
            }
            output[codeIndex] = code
            codeIndex = output.count
            output.append(0)
            code = 1
        }
        output[codeIndex] = code
    }

    /// Decodes COBS bytes (without the delimiter), appending the result to `output`.
    ///
    /// - Parameters:
    ///   - encoded: The encoded bytes between two delimiters.
    ///   - output: Receives the decoded bytes.
    /// - Returns: False if `encoded` is not valid COBS (it holds a zero byte, or a code
    ///   byte points past its end); `output` then holds a partial result.
    /// - Complexity: O(*n*).
    public static func decode(_ encoded: some Collection<UInt8>, appendingTo output: inout [UInt8]) -> Bool {
        var index = encoded.startIndex
        while index != encoded.endIndex {
            let code = encoded[index]
            if code == 0 { return false }
            index = encoded.index(after: index)
            for _ in 1..<Int(code) {
                guard index != encoded.endIndex else { return false }
                let byte = encoded[index]
                if byte == 0 { return false }
                output.append(byte)
                index = encoded.index(after: index)
            }
            if code != 0xFF && index != encoded.endIndex { output.append(0) }
        }
        return true
    }
}
