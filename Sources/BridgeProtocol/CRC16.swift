/// CRC-16/CCITT-FALSE, the checksum that ends every bridge frame.
///
/// Parameters as catalogued by Greg Cook's "Catalogue of parametrised CRC algorithms"
/// (reveng.sourceforge.io/crc-catalogue, entry CRC-16/IBM-3740, alias CRC-16/CCITT-FALSE):
/// width 16, polynomial 0x1021, initial value 0xFFFF, input and output not reflected, no
/// final XOR; the check value (the CRC of the ASCII bytes "123456789") is 0x29B1.
///
/// Computed bit by bit: no table, so the firmware stays small; frames are at most
/// ``BridgeWire/maximumRawFrameSize`` bytes.
public enum CRC16 {
    /// The CRC of the ASCII bytes "123456789", the catalogue's check value.
    public static let checkValue: UInt16 = 0x29B1
    /// The value the CRC starts from.
    public static let initialValue: UInt16 = 0xFFFF

    /// Feeds one byte into a running CRC.
    ///
    /// - Parameters:
    ///   - crc: The CRC so far (``initialValue`` before the first byte).
    ///   - byte: The next byte.
    /// - Returns: The CRC including `byte`.
    /// - Complexity: O(1): eight shifts.
    @inlinable
    public static func update(_ crc: UInt16, byte: UInt8) -> UInt16 {
        var crc = crc ^ (UInt16(byte) << 8)
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }

    /// The CRC of a sequence of bytes.
    ///
    /// - Parameter bytes: The bytes, in order.
    /// - Returns: Their CRC-16/CCITT-FALSE.
    /// - Complexity: O(*n*).
    @inlinable
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc = initialValue
        for byte in bytes { crc = update(crc, byte: byte) }
        return crc
    }
}
