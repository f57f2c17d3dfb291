// The only file of SnuffelHardware that calls the C standard library (open, close, ioctl,
// clocks, errno). libi2c, libgpiod and libserialport each have their own file
// (Syscalls+I2C.swift, Syscalls+GPIOD.swift, Syscalls+SerialPort.swift).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
#error("SnuffelHardware needs Linux")
#endif

extension Errno {
    /// `ENOENT`: no such file or directory (a bus or port that does not exist).
    public static let noSuchFileOrDirectory = Errno(rawValue: ENOENT)
    /// `EACCES`: permission denied (not in the i2c, dialout or gpio group).
    public static let permissionDenied = Errno(rawValue: EACCES)
    /// `ENXIO`: no such device or address (an I2C NACK on most adapters).
    public static let noSuchDeviceOrAddress = Errno(rawValue: ENXIO)
    /// `EREMOTEIO`: remote I/O error (an I2C NACK on some adapters).
    public static let remoteIO = Errno(rawValue: EREMOTEIO)
    /// `EIO`: input/output error (a serial device unplugged, a pty whose other side closed).
    public static let ioError = Errno(rawValue: EIO)
    /// `ETIMEDOUT`: the operation timed out.
    public static let timedOut = Errno(rawValue: ETIMEDOUT)
    /// `ENOTTY`: inappropriate ioctl for device.
    public static let notATerminal = Errno(rawValue: ENOTTY)
    /// `EINVAL`: invalid argument.
    public static let invalidArgument = Errno(rawValue: EINVAL)
    /// `EBUSY`: device or resource busy (a GPIO line another process holds).
    public static let busy = Errno(rawValue: EBUSY)
    /// `ENODEV`: no such device.
    public static let noDevice = Errno(rawValue: ENODEV)
    /// `EAGAIN`: try again.
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    /// `EINTR`: interrupted by a signal (retried by every call here, never thrown).
    public static let interrupted = Errno(rawValue: EINTR)
    /// `EBADF`: bad file descriptor (a handle used after it was closed).
    public static let badFileDescriptor = Errno(rawValue: EBADF)

    static let names: [Int32: String] = [
        ENOENT: "ENOENT", EACCES: "EACCES", ENXIO: "ENXIO", EREMOTEIO: "EREMOTEIO", EIO: "EIO",
        ETIMEDOUT: "ETIMEDOUT", ENOTTY: "ENOTTY", EINVAL: "EINVAL", EBUSY: "EBUSY", ENODEV: "ENODEV",
        EAGAIN: "EAGAIN", EINTR: "EINTR", EBADF: "EBADF", EPERM: "EPERM", EOPNOTSUPP: "EOPNOTSUPP",
    ]

    /// The calling thread's `errno`.
    static var current: Errno { Errno(rawValue: errno) }
}

/// The C library's message for an error number.
///
/// The corresponding C function is `strerror_r` (thread-safe; Swift sees the XSI variant).
func system_strerror(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 128)
    let result = buffer.withUnsafeMutableBufferPointer { pointer -> Int32 in
        guard let base = pointer.baseAddress else { return -1 }
        return strerror_r(code, base, pointer.count)
    }
    guard result == 0 else { return "unknown error" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Runs `body` until it succeeds or fails with something other than `EINTR`: the one
/// place where interrupted system calls are retried.
///
/// - Parameter body: A C call returning a negative value and setting `errno` on failure.
/// - Returns: The call's result, or the `errno` of its failure.
func retryingOnInterrupt<Value: BinaryInteger>(_ body: () -> Value) -> Result<Value, Errno> {
    while true {
        let result = body()
        if result >= 0 { return .success(result) }
        let error = Errno.current
        if error != .interrupted { return .failure(error) }
    }
}

/// Opens a device node for reading and writing.
///
/// The corresponding C function is `open` with `O_RDWR | O_CLOEXEC`, retried on `EINTR`.
func system_openReadWrite(_ path: String) -> Result<Int32, Errno> {
    retryingOnInterrupt { open(path, O_RDWR | O_CLOEXEC) }
}

/// Closes a file descriptor; the error, if any, is returned for the caller to ignore or
/// report (Linux releases the descriptor even when `close` fails, so it is never retried).
///
/// The corresponding C function is `close`.
@discardableResult
func system_close(_ descriptor: Int32) -> Errno? {
    close(descriptor) == 0 ? nil : Errno.current
}

/// An `ioctl` with an integer argument.
///
/// The corresponding C function is `ioctl`, retried on `EINTR`.
func system_ioctl(_ descriptor: Int32, _ request: UInt, _ value: Int32) -> Result<Int32, Errno> {
    retryingOnInterrupt { ioctl(descriptor, request, value) }
}

/// An `ioctl` with a pointer argument.
///
/// The corresponding C function is `ioctl`, retried on `EINTR`.
func system_ioctl(_ descriptor: Int32, _ request: UInt, _ pointer: UnsafeMutableRawPointer) -> Result<Int32, Errno> {
    retryingOnInterrupt { ioctl(descriptor, request, pointer) }
}

/// Microseconds on the monotonic clock.
///
/// The corresponding C function is `clock_gettime(CLOCK_MONOTONIC)`.
func system_monotonicMicroseconds() -> UInt64 {
    var now = timespec()
    _ = clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
}

/// Sleeps for the given time, continuing with the remaining time after a signal.
///
/// The corresponding C function is `nanosleep`, resumed on `EINTR` with the time it left.
func system_sleep(microseconds: UInt64) {
    var request = timespec(tv_sec: Int(microseconds / 1_000_000), tv_nsec: Int(microseconds % 1_000_000) * 1_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR {
        request = remaining
    }
}
