/// Tells systemd how a `Type=notify` service is doing (the `sd_notify` protocol, without
/// libsystemd): `READY=1` once running, `WATCHDOG=1` at least every half watchdog period,
/// `STATUS=...` for `systemctl status`, `STOPPING=1` on the way out. The messages are
/// datagrams to the UNIX socket that systemd names in `NOTIFY_SOCKET`.
///
/// Outside systemd (no `NOTIFY_SOCKET`) every call does nothing.
public struct ServiceNotifier: Sendable {
    /// The socket, a path or `@abstract` name; nil outside systemd.
    public let socket: String?
    /// The watchdog period systemd expects pings within (`WATCHDOG_USEC`), µs; nil when
    /// there is no watchdog.
    public let watchdogPeriod: UInt64?

    /// Reads `NOTIFY_SOCKET` and `WATCHDOG_USEC` (and `WATCHDOG_PID`, which when set must
    /// be this process's id) from an environment.
    /// - Parameters:
    ///   - environment: The process's environment.
    ///   - processID: This process's id.
    public init(environment: [String: String], processID: Int32) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socket = path
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == processID } ?? true
        if path != nil, forUs, let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 {
            watchdogPeriod = usec
        } else {
            watchdogPeriod = nil
        }
    }

    /// How often to ping the watchdog: half its period, as sd_watchdog_enabled(3) advises.
    public var pingInterval: UInt64? { watchdogPeriod.map { $0 / 2 } }

    /// Sends a notification, e.g. `READY=1` or `STATUS=recording`.
    /// - Returns: An error message when sending failed (systemd gone, a bad socket), nil on
    ///   success or outside systemd.
    @discardableResult
    public func notify(_ state: String) -> String? {
        guard let socket else { return nil }
        switch system_sendUnixDatagram(Array(state.utf8), to: socket) {
        case .success: return nil
        case .failure(let error): return "cannot notify systemd at \(socket): \(error.message)"
        }
    }
}

/// Free space on the file system that holds a path.
public enum FileSystemSpace {
    /// The bytes an unprivileged user may still write, or a message saying why it is unknown.
    public static func free(at path: String) -> Result<UInt64, FileSystemSpaceError> {
        system_freeBytes(path).mapError { FileSystemSpaceError(path: path, message: $0.message) }
    }
}

/// Why the free space of a path is unknown.
public struct FileSystemSpaceError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "cannot read the free space of '\(path)': \(message)" }
}
