// The only file of SnuffelHardware that calls libi2c or the kernel's i2c-dev ioctls.
// Ioctl numbers (I2C_SLAVE, I2C_RDWR), flags (I2C_M_RD) and structs (i2c_msg,
// i2c_rdwr_ioctl_data) come from <linux/i2c-dev.h> and <linux/i2c.h> through CI2C.

import CI2C

/// One message of a combined transfer: bytes to write, or a count of bytes to read.
enum I2CMessage {
    case write([UInt8])
    case read(Int)
}

/// Runs messages as one combined transfer to one address: a repeated start between
/// messages and one stop at the end.
///
/// The corresponding C call is `ioctl(fd, I2C_RDWR, &i2c_rdwr_ioctl_data)`, retried on
/// `EINTR`.
///
/// - Returns: The bytes of each read message, in order.
func system_i2cTransfer(_ descriptor: Int32, address: UInt8, _ messages: [I2CMessage]) -> Result<[[UInt8]], Errno> {
    // Every buffer lives until the ioctl returns: one allocation holds them all.
    let lengths = messages.map { message -> Int in
        switch message {
        case .write(let bytes): return bytes.count
        case .read(let count): return count
        }
    }
    guard lengths.allSatisfy({ $0 <= Int(UInt16.max) }), messages.count <= Int(I2C_RDWR_IOCTL_MAX_MSGS) else {
        return .failure(.invalidArgument)
    }
    var storage = [UInt8](repeating: 0, count: max(1, lengths.reduce(0, +)))
    return storage.withUnsafeMutableBufferPointer { buffer -> Result<[[UInt8]], Errno> in
        guard let base = buffer.baseAddress else { return .failure(.invalidArgument) }
        var structs: [i2c_msg] = []
        var offset = 0
        for (message, length) in zip(messages, lengths) {
            var flags: UInt16 = 0
            if case .write(let bytes) = message {
                for (i, byte) in bytes.enumerated() { base[offset + i] = byte }
            } else {
                flags = UInt16(I2C_M_RD)
            }
            structs.append(i2c_msg(addr: UInt16(address), flags: flags, len: UInt16(length), buf: base + offset))
            offset += length
        }
        let result = structs.withUnsafeMutableBufferPointer { messagesBuffer -> Result<Int32, Errno> in
            var request = i2c_rdwr_ioctl_data(msgs: messagesBuffer.baseAddress, nmsgs: UInt32(messagesBuffer.count))
            return withUnsafeMutablePointer(to: &request) { system_ioctl(descriptor, UInt(I2C_RDWR), UnsafeMutableRawPointer($0)) }
        }
        switch result {
        case .failure(let error): return .failure(error)
        case .success:
            var reads: [[UInt8]] = []
            offset = 0
            for (message, length) in zip(messages, lengths) {
                if case .read = message { reads.append(Array(UnsafeBufferPointer(start: base + offset, count: length))) }
                offset += length
            }
            return .success(reads)
        }
    }
}

/// Asks whether a device acknowledges `address`: selects it as the target and sends a
/// zero-length write (an SMBus quick command), as `i2cdetect -q` does.
///
/// The corresponding C calls are `ioctl(fd, I2C_SLAVE, address)` and libi2c's
/// `i2c_smbus_write_quick(fd, I2C_SMBUS_WRITE)` (which returns `-errno`).
///
/// - Returns: `true` when acknowledged, `false` on a NACK (`ENXIO` or `EREMOTEIO`).
func system_i2cQuickProbe(_ descriptor: Int32, address: UInt8) -> Result<Bool, Errno> {
    if case .failure(let error) = system_ioctl(descriptor, UInt(I2C_SLAVE), Int32(address)) {
        return .failure(error)
    }
    while true {
        let result = i2c_smbus_write_quick(descriptor, UInt8(I2C_SMBUS_WRITE))
        if result >= 0 { return .success(true) }
        let error = Errno(rawValue: -result)  // libi2c 4.x returns -errno
        if error == .interrupted { continue }
        if error.isNoAcknowledge { return .success(false) }
        return .failure(error)
    }
}
