/// The CRC-8 that Sensirion parts put after every 16-bit word, in both directions.
///
/// Polynomial 0x31 (x⁸ + x⁵ + x⁴ + 1), initialisation 0xFF, no reflection, no final XOR
/// (SHT4x and SGP41 datasheets, checksum calculation): the checksum of 0xBEEF is 0x92.
public enum SensirionCRC {
    /// The CRC-8 of the bytes.
    /// - Complexity: O(n).
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt8 where Bytes.Element == UInt8 {
        var crc: UInt8 = 0xFF
        for byte in bytes {
            crc ^= byte
            for _ in 0..<8 {
                crc = crc & 0x80 != 0 ? (crc << 1) ^ 0x31 : crc << 1
            }
        }
        return crc
    }

    /// A word as it goes on the wire: MSB, LSB, CRC.
    public static func encode(_ word: UInt16) -> [UInt8] {
        let bytes = [UInt8(word >> 8), UInt8(word & 0xFF)]
        return bytes + [checksum(bytes)]
    }

    /// Words from bytes in MSB, LSB, CRC triples, each CRC checked.
    /// - Throws: ``SensorError/checksumMismatch(_:what:received:expected:)`` naming the word.
    static func decode(_ bytes: [UInt8], words: Int, at location: DeviceLocation, what: String) throws(SensorError) -> [UInt16] {
        guard bytes.count >= words * 3 else {
            throw .invalidResponse(location, "\(what): \(bytes.count) bytes, expected \(words * 3)")
        }
        var result: [UInt16] = []
        for index in 0..<words {
            let msb = bytes[3 * index], lsb = bytes[3 * index + 1], crc = bytes[3 * index + 2]
            let expected = checksum([msb, lsb])
            guard crc == expected else {
                throw .checksumMismatch(location, what: "\(what) word \(index)", received: crc, expected: expected)
            }
            result.append(UInt16(msb) << 8 | UInt16(lsb))
        }
        return result
    }
}

/// The Sensirion way to run a command: write it, stop, wait the execution time, then read
/// the answer. A part that is still busy NACKs the read; the driver then polls a few times
/// before it gives up.
struct SensirionCommand {
    let bus: any I2CBusAccess
    let address: UInt8
    let clock: any HardwareClock

    var location: DeviceLocation { DeviceLocation(path: bus.path, address: address) }

    /// How often, and how long apart, a busy part's read is retried after the datasheet's
    /// execution time: 10 polls, 1 ms apart (a part more than 10 ms late is reported).
    static let polls = 10
    static let pollInterval: UInt64 = 1_000

    /// Writes a command (with its argument words and their CRCs).
    func send(_ command: [UInt8], arguments: [UInt16] = []) throws(SensorError) {
        do {
            try bus.write(command + arguments.flatMap(SensirionCRC.encode), to: address)
        } catch {
            throw .bus(error)
        }
    }

    /// Sends a command, waits its execution time, and reads `words` CRC-checked words.
    func run(_ command: [UInt8], arguments: [UInt16] = [], waitMicroseconds: UInt64, words: Int, what: String) throws(SensorError) -> [UInt16] {
        try send(command, arguments: arguments)
        clock.sleep(microseconds: waitMicroseconds)
        var attempt = 0
        while true {
            do {
                let bytes = try bus.read(words * 3, from: address)
                return try SensirionCRC.decode(bytes, words: words, at: location, what: what)
            } catch let error as HardwareError where error.errno.isNoAcknowledge && attempt < Self.polls {
                attempt += 1
                clock.sleep(microseconds: Self.pollInterval)
            } catch let error as HardwareError where error.errno.isNoAcknowledge {
                throw .timeout(location, "\(what) not ready \(waitMicroseconds / 1000) ms + \(Self.polls) polls after the command")
            } catch let error as HardwareError {
                throw .bus(error)
            } catch let error as SensorError {
                throw error
            } catch {
                throw .invalidResponse(location, "\(error)")
            }
        }
    }
}
