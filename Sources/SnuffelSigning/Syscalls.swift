#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The few file calls of the signing module, in one place: key files are created with
// O_EXCL and mode 0600 (no window in which another user could read them), and logs are
// read in chunks (bounded memory).

/// A failed file call: the `errno` value and its text.
struct SystemFailure: Error {
    var code: Int32
    var message: String

    init(errno code: Int32) {
        self.code = code
        self.message = String(cString: strerror(code))
    }
}

/// An open file descriptor, closed when released.
final class FileDescriptor {
    let raw: Int32

    init(raw: Int32) { self.raw = raw }

    deinit { _ = close(raw) }

    /// Opens a file for reading.
    static func openForReading(_ path: String) -> Result<FileDescriptor, SystemFailure> {
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        return fd < 0 ? .failure(SystemFailure(errno: errno)) : .success(FileDescriptor(raw: fd))
    }

    /// Creates a new file readable and writable by its owner only; fails if it exists.
    static func createPrivate(_ path: String) -> Result<FileDescriptor, SystemFailure> {
        let fd = retrying { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        return fd < 0 ? .failure(SystemFailure(errno: errno)) : .success(FileDescriptor(raw: fd))
    }

    /// Creates or empties a file with mode 0644 (before the umask).
    static func createPublic(_ path: String) -> Result<FileDescriptor, SystemFailure> {
        let fd = retrying { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        return fd < 0 ? .failure(SystemFailure(errno: errno)) : .success(FileDescriptor(raw: fd))
    }

    /// Reads up to `buffer.count` bytes; 0 at the end of the file.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, SystemFailure> {
        let n = Self.retrying { system_read(raw, buffer.baseAddress, buffer.count) }
        return n < 0 ? .failure(SystemFailure(errno: errno)) : .success(n)
    }

    /// Writes all bytes, then flushes them to the device.
    func writeAllAndSync(_ bytes: [UInt8]) -> Result<Void, SystemFailure> {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { all in
                Self.retrying { system_write(raw, all.baseAddress.map { $0 + done }, all.count - done) }
            }
            if n < 0 { return .failure(SystemFailure(errno: errno)) }
            done += n
        }
        if fsync(raw) != 0 { return .failure(SystemFailure(errno: errno)) }
        return .success(())
    }

    /// Retries a call that failed with EINTR.
    private static func retrying<T: FixedWidthInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result < 0 && errno == EINTR { continue }
            return result
        }
    }
}

/// The C `read`, named apart from the method.
private func system_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// The C `write`, named apart from the method.
private func system_write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}

/// `EEXIST`, for callers that do not import the C library.
let EEXISTCode: Int32 = EEXIST
