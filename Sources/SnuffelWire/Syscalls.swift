// The only file of SnuffelWire that calls the C library: opening and reading files for
// the readers' file conveniences, and the TCP connection and serial device a bridge
// monitor reads (ByteStream.swift). Everything else in the module works on bytes.

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

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
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
    writeFully(buffer) { write(descriptor, $0, $1) }
}

/// Calls `write` with the rest of `buffer` until all of it is written; retries on `EINTR`,
/// and fails on another error or a write of 0 bytes (`EIO`).
private func writeFully(
    _ buffer: UnsafeRawBufferPointer, _ write: (UnsafeRawPointer, Int) -> Int
) -> Result<Void, SystemError> {
    guard let base = buffer.baseAddress else { return .success(()) }
    var done = 0
    while done < buffer.count {
        let count = write(base + done, buffer.count - done)
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

/// Connects a TCP socket to `host`:`port`, trying each address the name resolves to.
///
/// The corresponding C functions are `getaddrinfo`, `socket` (with `SOCK_CLOEXEC`) and
/// `connect`, retried on `EINTR`.
///
/// - Returns: The connected socket, or the error of the last address tried (a resolver
///   failure has code 0 and the resolver's message).
func system_connectTCP(host: String, port: UInt16) -> Result<Int32, SystemError> {
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    #if canImport(Glibc)
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    #else
    hints.ai_socktype = SOCK_STREAM
    #endif
    var list: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(host, String(port), &hints, &list)
    guard status == 0, let first = list else {
        return .failure(SystemError(code: 0, message: String(cString: gai_strerror(status))))
    }
    defer { freeaddrinfo(first) }
    var failure = SystemError(code: ECONNREFUSED)
    var entry: UnsafeMutablePointer<addrinfo>? = first
    while let info = entry {
        entry = info.pointee.ai_next
        #if canImport(Glibc)
        let type = info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = info.pointee.ai_socktype
        #endif
        let descriptor = socket(info.pointee.ai_family, type, info.pointee.ai_protocol)
        if descriptor < 0 {
            failure = SystemError(code: errno)
            continue
        }
        while true {
            if connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return .success(descriptor) }
            if errno != EINTR { break }
        }
        failure = SystemError(code: errno)
        _ = close(descriptor)
    }
    return .failure(failure)
}

/// Opens a serial device for reading and writing in raw mode (8N1, no flow control, no
/// echo or line editing) at `baudRate`.
///
/// The corresponding C functions are `open` (with `O_RDWR | O_NOCTTY | O_CLOEXEC`),
/// `tcgetattr`, `cfmakeraw`, `cfsetispeed`, `cfsetospeed` and `tcsetattr`.
///
/// - Returns: The descriptor, or the error; `EINVAL` for a baud rate termios does not
///   name.
func system_openSerialDevice(_ path: String, baudRate: Int) -> Result<Int32, SystemError> {
    let speeds: [Int: speed_t] = [
        9600: speed_t(B9600), 19200: speed_t(B19200), 38400: speed_t(B38400), 57600: speed_t(B57600),
        115_200: speed_t(B115200), 230_400: speed_t(B230400), 460_800: speed_t(B460800),
        921_600: speed_t(B921600),
    ]
    guard let speed = speeds[baudRate] else { return .failure(SystemError(code: EINVAL)) }
    var descriptor: Int32 = -1
    while true {
        descriptor = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        if descriptor >= 0 { break }
        if errno != EINTR { return .failure(SystemError(code: errno)) }
    }
    var settings = termios()
    if tcgetattr(descriptor, &settings) != 0 {
        let failure = SystemError(code: errno)
        _ = close(descriptor)
        return .failure(failure)
    }
    cfmakeraw(&settings)
    settings.c_cflag |= tcflag_t(CLOCAL | CREAD)
    settings.c_cflag &= ~tcflag_t(CRTSCTS)
    _ = cfsetispeed(&settings, speed)
    _ = cfsetospeed(&settings, speed)
    if tcsetattr(descriptor, TCSANOW, &settings) != 0 {
        let failure = SystemError(code: errno)
        _ = close(descriptor)
        return .failure(failure)
    }
    return .success(descriptor)
}

/// Waits until a descriptor has bytes to read (or is at its end), at most
/// `timeoutMilliseconds`.
///
/// The corresponding C function is `poll`; `EINTR` counts as a timeout, so that a signal
/// handler's flag is seen.
///
/// - Returns: Whether the descriptor is readable.
func system_waitReadable(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Result<Bool, SystemError> {
    var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
    let count = poll(&entry, 1, timeoutMilliseconds)
    if count > 0 { return .success(true) }
    if count == 0 || errno == EINTR { return .success(false) }
    return .failure(SystemError(code: errno))
}

/// Reads up to `buffer.count` bytes.
///
/// The corresponding C function is `read`, retried on `EINTR`.
///
/// - Returns: The number of bytes read, 0 at the end of the stream.
func system_read(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Result<Int, SystemError> {
    while true {
        let count = read(descriptor, buffer.baseAddress, buffer.count)
        if count >= 0 { return .success(count) }
        if errno != EINTR { return .failure(SystemError(code: errno)) }
    }
}

/// Writes all of `buffer` to a socket without raising `SIGPIPE` when the peer has gone
/// (the write fails with `EPIPE` instead).
///
/// The corresponding C function is `send` with `MSG_NOSIGNAL`, retried on `EINTR`.
func system_sendAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer) -> Result<Void, SystemError> {
    writeFully(buffer) { send(descriptor, $0, $1, Int32(MSG_NOSIGNAL)) }
}

/// A socket address as the C library gives it, kept as bytes.
struct SocketAddress: Sendable, Equatable {
    var storage: [UInt8]
    var length: UInt32
}

/// Opens a UDP socket bound to `host`:`port` (port 0: any free port).
///
/// The corresponding C functions are `socket` (`SOCK_DGRAM | SOCK_CLOEXEC`), `bind` and
/// `getsockname`.
/// - Returns: The socket and the port it is bound to.
func system_bindUDP(host: String, port: UInt16) -> Result<(Int32, UInt16), SystemError> {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
        return .failure(SystemError(code: EINVAL, message: "not an IPv4 address: \(host)"))
    }
    let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { return .failure(SystemError(code: errno)) }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else {
        let error = SystemError(code: errno)
        close(descriptor)
        return .failure(error)
    }
    var actual = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &actual) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return .success((descriptor, UInt16(bigEndian: actual.sin_port)))
}

/// Receives one datagram.
///
/// The corresponding C function is `recvfrom`, retried on `EINTR`.
/// - Returns: The bytes (cut to `capacity`) and the sender's address.
func system_receiveFrom(_ descriptor: Int32, capacity: Int) -> Result<([UInt8], SocketAddress), SystemError> {
    var buffer = [UInt8](repeating: 0, count: capacity)
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    while true {
        let count = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor, raw.baseAddress, raw.count, 0, $0, &length) }
            }
        }
        if count >= 0 {
            let bytes = withUnsafeBytes(of: &storage) { Array($0.prefix(Int(length))) }
            return .success((Array(buffer.prefix(count)), SocketAddress(storage: bytes, length: UInt32(length))))
        }
        if errno != EINTR { return .failure(SystemError(code: errno)) }
    }
}

/// Sends one datagram to an address.
///
/// The corresponding C function is `sendto`, retried on `EINTR`.
func system_sendTo(_ descriptor: Int32, _ bytes: [UInt8], _ address: SocketAddress) -> Result<Void, SystemError> {
    var storage = sockaddr_storage()
    withUnsafeMutableBytes(of: &storage) { raw in
        for (i, b) in address.storage.prefix(raw.count).enumerated() { raw[i] = b }
    }
    while true {
        let sent = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL), $0, socklen_t(address.length))
                }
            }
        }
        if sent >= 0 { return .success(()) }
        if errno != EINTR { return .failure(SystemError(code: errno)) }
    }
}

/// Sends one datagram to a UNIX-domain socket: a path, or an abstract name when it starts
/// with `@` (systemd's `NOTIFY_SOCKET` may be either).
///
/// The corresponding C functions are `socket` (`AF_UNIX`, `SOCK_DGRAM | SOCK_CLOEXEC`),
/// `sendto` (retried on `EINTR`) and `close`.
func system_sendUnixDatagram(_ bytes: [UInt8], to path: String) -> Result<Void, SystemError> {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    var name = Array(path.utf8)
    let abstract = name.first == UInt8(ascii: "@")
    if abstract { name[0] = 0 }
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard !name.isEmpty, name.count < capacity else {
        return .failure(SystemError(code: EINVAL, message: "not a socket path: \(path)"))
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, b) in name.enumerated() { raw[i] = b }
    }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count + (abstract ? 0 : 1))
    let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard descriptor >= 0 else { return .failure(SystemError(code: errno)) }
    defer { close(descriptor) }
    while true {
        let sent = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        if sent >= 0 { return .success(()) }
        if errno != EINTR { return .failure(SystemError(code: errno)) }
    }
}

/// The free space of the file system holding `path`, bytes, for an unprivileged user.
///
/// The corresponding C function is `statvfs`.
func system_freeBytes(_ path: String) -> Result<UInt64, SystemError> {
    var info = statvfs()
    guard statvfs(path, &info) == 0 else { return .failure(SystemError(code: errno)) }
    return .success(UInt64(info.f_bavail) &* UInt64(info.f_frsize))
}
