// The only file of SnuffelHardware that calls libserialport. Its functions return
// `enum sp_return` (negative on failure); SP_ERR_FAIL carries the OS's errno, which
// sp_last_error_code() gives back.

import CSerialPort

/// A failure of a libserialport call: the errno (EINVAL for argument errors, which carry
/// no errno) and libserialport's message.
struct SerialFailure: Error {
    var errno: Errno
    var message: String
}

/// Turns an `sp_return` into success or the failure it stands for.
private func check(_ code: Int32) -> Result<Int, SerialFailure> {
    if code >= 0 { return .success(Int(code)) }
    var message = ""
    if let text = sp_last_error_message() {
        message = String(cString: text)
        sp_free_error_message(text)
    }
    switch code {
    case SP_ERR_FAIL.rawValue:
        // EINTR is handled inside libserialport's blocking calls; anything here is final.
        return .failure(SerialFailure(errno: Errno(rawValue: Int32(sp_last_error_code())), message: message))
    case SP_ERR_ARG.rawValue: return .failure(SerialFailure(errno: .invalidArgument, message: message.isEmpty ? "invalid argument" : message))
    case SP_ERR_SUPP.rawValue: return .failure(SerialFailure(errno: Errno(rawValue: 95), message: message.isEmpty ? "not supported" : message))
    default: return .failure(SerialFailure(errno: .ioError, message: message.isEmpty ? "libserialport error \(code)" : message))
    }
}

/// Parity of a serial frame, as libserialport names it.
enum SerialParitySetting { case none, odd, even }

/// Looks a port up by name and opens it for reading and writing with the given settings
/// and no flow control.
///
/// The corresponding C functions are `sp_get_port_by_name`, `sp_open`, `sp_set_baudrate`,
/// `sp_set_bits`, `sp_set_parity`, `sp_set_stopbits` and `sp_set_flowcontrol`.
func system_serialOpen(
    _ path: String, baudRate: Int, dataBits: Int, parity: SerialParitySetting, stopBits: Int
) -> Result<OpaquePointer, SerialFailure> {
    var port: OpaquePointer?
    if case .failure(let failure) = check(sp_get_port_by_name(path, &port).rawValue) { return .failure(failure) }
    guard let port else { return .failure(SerialFailure(errno: .noSuchFileOrDirectory, message: "no such port")) }
    let cParity: sp_parity
    switch parity {
    case .none: cParity = SP_PARITY_NONE
    case .odd: cParity = SP_PARITY_ODD
    case .even: cParity = SP_PARITY_EVEN
    }
    let steps: [() -> sp_return] = [
        { sp_open(port, SP_MODE_READ_WRITE) },
        { sp_set_baudrate(port, Int32(baudRate)) },
        { sp_set_bits(port, Int32(dataBits)) },
        { sp_set_parity(port, cParity) },
        { sp_set_stopbits(port, Int32(stopBits)) },
        { sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE) },
    ]
    for (index, step) in steps.enumerated() {
        if case .failure(let failure) = check(step().rawValue) {
            if index > 0 { _ = sp_close(port) }
            sp_free_port(port)
            return .failure(failure)
        }
    }
    return .success(port)
}

/// Closes and frees a port.
///
/// The corresponding C functions are `sp_close` and `sp_free_port`.
func system_serialClose(_ port: OpaquePointer) {
    _ = sp_close(port)
    sp_free_port(port)
}

/// Writes all bytes, waiting at most `timeoutMilliseconds` (0: no limit).
///
/// The corresponding C function is `sp_blocking_write`.
/// - Returns: The number of bytes written (fewer on timeout).
func system_serialWrite(_ port: OpaquePointer, _ bytes: [UInt8], timeoutMilliseconds: Int) -> Result<Int, SerialFailure> {
    bytes.withUnsafeBytes { check(sp_blocking_write(port, $0.baseAddress, $0.count, UInt32(timeoutMilliseconds)).rawValue) }
}

/// Reads up to `count` bytes, waiting at most `timeoutMilliseconds` for all of them;
/// with a timeout of nil, returns at once with what is there.
///
/// The corresponding C functions are `sp_blocking_read` and `sp_nonblocking_read`.
func system_serialRead(_ port: OpaquePointer, count: Int, timeoutMilliseconds: Int?) -> Result<[UInt8], SerialFailure> {
    var buffer = [UInt8](repeating: 0, count: count)
    let result = buffer.withUnsafeMutableBytes { raw -> Result<Int, SerialFailure> in
        if let timeoutMilliseconds {
            return check(sp_blocking_read(port, raw.baseAddress, raw.count, UInt32(timeoutMilliseconds)).rawValue)
        }
        return check(sp_nonblocking_read(port, raw.baseAddress, raw.count).rawValue)
    }
    return result.map { Array(buffer.prefix($0)) }
}

/// Discards bytes received but not read.
///
/// The corresponding C function is `sp_flush` with `SP_BUF_INPUT`.
func system_serialDiscardInput(_ port: OpaquePointer) -> Result<Void, SerialFailure> {
    check(sp_flush(port, SP_BUF_INPUT).rawValue).map { _ in () }
}
