// The only file of SnuffelHardware that calls libgpiod. The default build uses the v1 API
// (libgpiod 1.6, Debian 12); the LibgpiodV2 package trait is reserved for the v2 API
// (libgpiod 2.x), which is not implemented yet: with the trait, every call fails with
// EOPNOTSUPP so that the rest of the package still builds and says why.

#if canImport(Glibc)
import Glibc
#endif
import CGPIOD

/// An open chip and, once requested, one of its lines (libgpiod objects).
struct GPIOHandle {
    var chip: OpaquePointer
}

/// What a requested line is for.
enum GPIORequest {
    case input
    case output(initial: Bool)
    case edges(rising: Bool, falling: Bool)
}

#if !LibgpiodV2

/// Opens a GPIO chip.
///
/// The corresponding C function is `gpiod_chip_open`.
func system_gpioOpenChip(_ path: String) -> Result<GPIOHandle, Errno> {
    guard let chip = gpiod_chip_open(path) else { return .failure(.current) }
    return .success(GPIOHandle(chip: chip))
}

/// Closes a chip (and so releases its lines).
///
/// The corresponding C function is `gpiod_chip_close`.
func system_gpioCloseChip(_ handle: GPIOHandle) {
    gpiod_chip_close(handle.chip)
}

/// The number of lines of a chip.
///
/// The corresponding C function is `gpiod_chip_num_lines`.
func system_gpioLineCount(_ handle: GPIOHandle) -> Int {
    Int(gpiod_chip_num_lines(handle.chip))
}

/// Requests a line of a chip for one use.
///
/// The corresponding C functions are `gpiod_chip_get_line` and `gpiod_line_request_input`,
/// `gpiod_line_request_output` or `gpiod_line_request_*_events`.
func system_gpioRequest(_ handle: GPIOHandle, offset: Int, consumer: String, _ request: GPIORequest) -> Result<OpaquePointer, Errno> {
    guard offset >= 0, offset < system_gpioLineCount(handle) else { return .failure(.invalidArgument) }
    guard let line = gpiod_chip_get_line(handle.chip, UInt32(offset)) else { return .failure(.current) }
    let result: Int32
    switch request {
    case .input: result = gpiod_line_request_input(line, consumer)
    case .output(let initial): result = gpiod_line_request_output(line, consumer, initial ? 1 : 0)
    case .edges(true, true): result = gpiod_line_request_both_edges_events(line, consumer)
    case .edges(true, false): result = gpiod_line_request_rising_edge_events(line, consumer)
    case .edges(false, _): result = gpiod_line_request_falling_edge_events(line, consumer)
    }
    return result == 0 ? .success(line) : .failure(.current)
}

/// Releases a requested line.
///
/// The corresponding C function is `gpiod_line_release`.
func system_gpioRelease(_ line: OpaquePointer) {
    gpiod_line_release(line)
}

/// Sets an output line.
///
/// The corresponding C function is `gpiod_line_set_value`.
func system_gpioSet(_ line: OpaquePointer, _ value: Bool) -> Result<Void, Errno> {
    gpiod_line_set_value(line, value ? 1 : 0) == 0 ? .success(()) : .failure(.current)
}

/// Reads a line.
///
/// The corresponding C function is `gpiod_line_get_value`.
func system_gpioGet(_ line: OpaquePointer) -> Result<Bool, Errno> {
    let value = gpiod_line_get_value(line)
    return value < 0 ? .failure(.current) : .success(value == 1)
}

/// Waits for an edge event and reads it.
///
/// The corresponding C functions are `gpiod_line_event_wait` (retried on `EINTR`) and
/// `gpiod_line_event_read`.
/// - Returns: nil on timeout, else whether the edge was rising and its timestamp in ns.
func system_gpioWaitEvent(_ line: OpaquePointer, timeoutMicroseconds: UInt64) -> Result<(rising: Bool, nanoseconds: UInt64)?, Errno> {
    var timeout = timespec(tv_sec: Int(timeoutMicroseconds / 1_000_000), tv_nsec: Int(timeoutMicroseconds % 1_000_000) * 1_000)
    switch retryingOnInterrupt({ gpiod_line_event_wait(line, &timeout) }) {
    case .failure(let error): return .failure(error)
    case .success(0): return .success(nil)
    case .success: break
    }
    var event = gpiod_line_event()
    guard gpiod_line_event_read(line, &event) == 0 else { return .failure(.current) }
    let nanoseconds = UInt64(event.ts.tv_sec) * 1_000_000_000 + UInt64(event.ts.tv_nsec)
    return .success((rising: event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE), nanoseconds: nanoseconds))
}

#else

private let notImplemented = Errno(rawValue: EOPNOTSUPP)
func system_gpioOpenChip(_ path: String) -> Result<GPIOHandle, Errno> { .failure(notImplemented) }
func system_gpioCloseChip(_ handle: GPIOHandle) {}
func system_gpioLineCount(_ handle: GPIOHandle) -> Int { 0 }
func system_gpioRequest(_ handle: GPIOHandle, offset: Int, consumer: String, _ request: GPIORequest) -> Result<OpaquePointer, Errno> {
    .failure(notImplemented)
}
func system_gpioRelease(_ line: OpaquePointer) {}
func system_gpioSet(_ line: OpaquePointer, _ value: Bool) -> Result<Void, Errno> { .failure(notImplemented) }
func system_gpioGet(_ line: OpaquePointer) -> Result<Bool, Errno> { .failure(notImplemented) }
func system_gpioWaitEvent(_ line: OpaquePointer, timeoutMicroseconds: UInt64) -> Result<(rising: Bool, nanoseconds: UInt64)?, Errno> {
    .failure(notImplemented)
}

#endif
