// The only file of SnuffelWire that calls the C library: opening and reading files for
// the readers' file conveniences. Everything else in the module works on bytes.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("Unsupported platform")
#endif

/// An `errno` value with its message.
struct SystemError: Error, Sendable {
    var code: Int32
    var message: String

    init(code: Int32) {
        self.code = code
        self.message = String(cString: strerror(code))
    }
}

/// Opens a file for reading.
///
/// The corresponding C function is `open` with `O_RDONLY | O_CLOEXEC`, retried on
/// `EINTR`.
func system_openForReading(_ path: String) -> Result<Int32, SystemError> {
    while true {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 { return .success(descriptor) }
        if errno != EINTR { return .failure(SystemError(code: errno)) }
    }
}

/// Reads up to `buffer.count` bytes at `offset` without moving the file position.
///
/// The corresponding C function is `pread`, retried on `EINTR`.
///
/// - Returns: The number of bytes read, 0 at the end of the file.
func system_pread(
    _ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64
) -> Result<Int, SystemError> {
    while true {
        let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
        if count >= 0 { return .success(count) }
        if errno != EINTR { return .failure(SystemError(code: errno)) }
    }
}

/// Closes a file descriptor. Errors are ignored: the file was only read.
///
/// The corresponding C function is `close`.
func system_close(_ descriptor: Int32) {
    _ = close(descriptor)
}

/// Opens a file for writing, creating it (mode 0644) or emptying it.
///
/// The corresponding C function is `open` with `O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC`,
/// retried on `EINTR`.
func system_openForWriting(_ path: String) -> Result<Int32, SystemError> {
    while true {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if descriptor >= 0 { return .success(descriptor) }
        if errno != EINTR { return .failure(SystemError(code: errno)) }
    }
}

/// Writes all of `buffer`, continuing after short writes.
///
/// The corresponding C function is `write`, retried on `EINTR`.
func system_writeAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer) -> Result<Void, SystemError> {
    var done = 0
    while done < buffer.count {
        let count = write(descriptor, buffer.baseAddress! + done, buffer.count - done)
        if count > 0 {
            done += count
        } else if count < 0 && errno != EINTR {
            return .failure(SystemError(code: errno))
        } else if count == 0 {
            return .failure(SystemError(code: EIO))
        }
    }
    return .success(())
}

/// Flushes a file's data to the storage device.
///
/// The corresponding C function is `fsync`, retried on `EINTR`.
func system_fsync(_ descriptor: Int32) -> Result<Void, SystemError> {
    while true {
        if fsync(descriptor) == 0 { return .success(()) }
        if errno != EINTR { return .failure(SystemError(code: errno)) }
    }
}
