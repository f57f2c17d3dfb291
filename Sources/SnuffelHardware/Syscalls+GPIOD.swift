// The only file of SnuffelHardware that calls libgpiod. The default build uses the v1 API
// (libgpiod 1.6, Debian 12, Raspberry Pi OS bookworm); the LibgpiodV2 package trait builds
// the same internal functions over the v2 API (libgpiod 2.x, Debian 13), so GPIOChip and
// GPIOLine look the same either way.

#if canImport(Glibc)
import Glibc
#endif
import CGPIOD

/// An open chip (libgpiod's `struct gpiod_chip`).
struct GPIOHandle {
    var chip: OpaquePointer
}

/// A requested line: v1's `struct gpiod_line`, or v2's `struct gpiod_line_request` and the
/// line's offset in it.
struct GPIOLineHandle {
    var pointer: OpaquePointer
    var offset: UInt32
}

/// What a requested line is for.
enum GPIORequest {
    case input
    case output(initial: Bool)
    case edges(rising: Bool, falling: Bool)
}

// Opening and closing a chip are the same in both APIs.

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

#if !LibgpiodV2

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
func system_gpioRequest(_ handle: GPIOHandle, offset: Int, consumer: String, _ request: GPIORequest) -> Result<GPIOLineHandle, Errno> {
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
    return result == 0 ? .success(GPIOLineHandle(pointer: line, offset: UInt32(offset))) : .failure(.current)
}

/// Releases a requested line.
///
/// The corresponding C function is `gpiod_line_release`.
func system_gpioRelease(_ line: GPIOLineHandle) {
    gpiod_line_release(line.pointer)
}

/// Sets an output line.
///
/// The corresponding C function is `gpiod_line_set_value`.
func system_gpioSet(_ line: GPIOLineHandle, _ value: Bool) -> Result<Void, Errno> {
    gpiod_line_set_value(line.pointer, value ? 1 : 0) == 0 ? .success(()) : .failure(.current)
}

/// Reads a line.
///
/// The corresponding C function is `gpiod_line_get_value`.
func system_gpioGet(_ line: GPIOLineHandle) -> Result<Bool, Errno> {
    let value = gpiod_line_get_value(line.pointer)
    return value < 0 ? .failure(.current) : .success(value == 1)
}

/// Waits for an edge event and reads it.
///
/// The corresponding C functions are `gpiod_line_event_wait` (retried on `EINTR`) and
/// `gpiod_line_event_read`.
/// - Returns: nil on timeout, else whether the edge was rising and its timestamp in ns.
func system_gpioWaitEvent(_ line: GPIOLineHandle, timeoutMicroseconds: UInt64) -> Result<(rising: Bool, nanoseconds: UInt64)?, Errno> {
    var timeout = timespec(tv_sec: Int(timeoutMicroseconds / 1_000_000), tv_nsec: Int(timeoutMicroseconds % 1_000_000) * 1_000)
    switch retryingOnInterrupt({ gpiod_line_event_wait(line.pointer, &timeout) }) {
    case .failure(let error): return .failure(error)
    case .success(0): return .success(nil)
    case .success: break
    }
    var event = gpiod_line_event()
    guard gpiod_line_event_read(line.pointer, &event) == 0 else { return .failure(.current) }
    let nanoseconds = UInt64(event.ts.tv_sec) * 1_000_000_000 + UInt64(event.ts.tv_nsec)
    return .success((rising: event.event_type == Int32(GPIOD_LINE_EVENT_RISING_EDGE), nanoseconds: nanoseconds))
}

#else

/// The number of lines of a chip (0 when the chip's information cannot be read).
///
/// The corresponding C functions are `gpiod_chip_get_info`, `gpiod_chip_info_get_num_lines`
/// and `gpiod_chip_info_free`.
func system_gpioLineCount(_ handle: GPIOHandle) -> Int {
    guard let info = gpiod_chip_get_info(handle.chip) else { return 0 }
    defer { gpiod_chip_info_free(info) }
    return Int(gpiod_chip_info_get_num_lines(info))
}

/// Requests a line of a chip for one use.
///
/// The corresponding C functions are `gpiod_line_settings_new` and its setters,
/// `gpiod_line_config_new`, `gpiod_line_config_add_line_settings`,
/// `gpiod_request_config_new`, `gpiod_request_config_set_consumer` and
/// `gpiod_chip_request_lines` (and the matching `_free` functions).
func system_gpioRequest(_ handle: GPIOHandle, offset: Int, consumer: String, _ request: GPIORequest) -> Result<GPIOLineHandle, Errno> {
    guard offset >= 0, offset < system_gpioLineCount(handle) else { return .failure(.invalidArgument) }
    guard let settings = gpiod_line_settings_new() else { return .failure(.current) }
    defer { gpiod_line_settings_free(settings) }
    var result: Int32 = 0
    switch request {
    case .input:
        result = gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT)
    case .output(let initial):
        result = gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_OUTPUT)
        if result == 0 {
            result = gpiod_line_settings_set_output_value(settings, initial ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE)
        }
    case .edges(let rising, let falling):
        result = gpiod_line_settings_set_direction(settings, GPIOD_LINE_DIRECTION_INPUT)
        let edge = rising && falling ? GPIOD_LINE_EDGE_BOTH : rising ? GPIOD_LINE_EDGE_RISING : GPIOD_LINE_EDGE_FALLING
        if result == 0 { result = gpiod_line_settings_set_edge_detection(settings, edge) }
    }
    guard result == 0 else { return .failure(.current) }
    guard let lineConfig = gpiod_line_config_new() else { return .failure(.current) }
    defer { gpiod_line_config_free(lineConfig) }
    var line = UInt32(offset)
    guard gpiod_line_config_add_line_settings(lineConfig, &line, 1, settings) == 0 else { return .failure(.current) }
    guard let requestConfig = gpiod_request_config_new() else { return .failure(.current) }
    defer { gpiod_request_config_free(requestConfig) }
    gpiod_request_config_set_consumer(requestConfig, consumer)
    guard let lineRequest = gpiod_chip_request_lines(handle.chip, requestConfig, lineConfig) else { return .failure(.current) }
    return .success(GPIOLineHandle(pointer: lineRequest, offset: line))
}

/// Releases a requested line.
///
/// The corresponding C function is `gpiod_line_request_release`.
func system_gpioRelease(_ line: GPIOLineHandle) {
    gpiod_line_request_release(line.pointer)
}

/// Sets an output line.
///
/// The corresponding C function is `gpiod_line_request_set_value`.
func system_gpioSet(_ line: GPIOLineHandle, _ value: Bool) -> Result<Void, Errno> {
    gpiod_line_request_set_value(line.pointer, line.offset, value ? GPIOD_LINE_VALUE_ACTIVE : GPIOD_LINE_VALUE_INACTIVE) == 0
        ? .success(()) : .failure(.current)
}

/// Reads a line.
///
/// The corresponding C function is `gpiod_line_request_get_value`.
func system_gpioGet(_ line: GPIOLineHandle) -> Result<Bool, Errno> {
    let value = gpiod_line_request_get_value(line.pointer, line.offset)
    if value == GPIOD_LINE_VALUE_ERROR { return .failure(.current) }
    return .success(value == GPIOD_LINE_VALUE_ACTIVE)
}

/// Waits for an edge event and reads it.
///
/// The corresponding C functions are `gpiod_line_request_wait_edge_events` (retried on
/// `EINTR`), `gpiod_edge_event_buffer_new`, `gpiod_line_request_read_edge_events`,
/// `gpiod_edge_event_buffer_get_event`, `gpiod_edge_event_get_event_type`,
/// `gpiod_edge_event_get_timestamp_ns` and `gpiod_edge_event_buffer_free`.
/// - Returns: nil on timeout, else whether the edge was rising and its timestamp in ns.
func system_gpioWaitEvent(_ line: GPIOLineHandle, timeoutMicroseconds: UInt64) -> Result<(rising: Bool, nanoseconds: UInt64)?, Errno> {
    let timeout = Int64(min(timeoutMicroseconds, UInt64(Int64.max / 1_000))) * 1_000
    switch retryingOnInterrupt({ gpiod_line_request_wait_edge_events(line.pointer, timeout) }) {
    case .failure(let error): return .failure(error)
    case .success(0): return .success(nil)
    case .success: break
    }
    guard let buffer = gpiod_edge_event_buffer_new(1) else { return .failure(.current) }
    defer { gpiod_edge_event_buffer_free(buffer) }
    guard gpiod_line_request_read_edge_events(line.pointer, buffer, 1) == 1,
          let event = gpiod_edge_event_buffer_get_event(buffer, 0) else { return .failure(.current) }
    return .success((rising: gpiod_edge_event_get_event_type(event) == GPIOD_EDGE_EVENT_RISING_EDGE,
                     nanoseconds: gpiod_edge_event_get_timestamp_ns(event)))
}

#endif
