import Foundation
import Testing

@testable import SnuffelHardware

/// The real Linux backends on a machine without I2C or GPIO: clear errors naming the path.
/// With real hardware, set SNUFFEL_TEST_I2C (e.g. /dev/i2c-1), SNUFFEL_TEST_GPIOCHIP
/// (e.g. /dev/gpiochip0) to run the hardware tests below as well.
@Suite("Linux backends: error paths")
struct LinuxBackendTests {
    @Test("a missing I2C bus is ENOENT naming the path, with what to do")
    func missingBus() {
        #expect {
            _ = try I2CBus(path: "/dev/i2c-snuffel-missing")
        } throws: { error in
            guard let e = error as? HardwareError else { return false }
            return e.errno == .noSuchFileOrDirectory && e.location.path == "/dev/i2c-snuffel-missing"
                && e.operation == "open" && e.description.contains("ENOENT") && e.description.contains("enable I2C")
        }
    }

    @Test("a file that is not an I2C adapter: transfers fail with ENOTTY naming the address")
    func notAnAdapter() throws {
        let bus = try I2CBus(path: "/dev/null")
        #expect {
            _ = try bus.writeRead([0xD0], readCount: 1, at: 0x76)
        } throws: { error in
            guard let e = error as? HardwareError else { return false }
            return e.errno == .notATerminal && e.location == DeviceLocation(path: "/dev/null", address: 0x76)
                && e.description.hasPrefix("/dev/null @0x76: I2C_RDWR write 1 read 1: ENOTTY")
        }
        #expect(throws: HardwareError.self) { _ = try bus.probe(0x44) }
        #expect(throws: HardwareError.self) { try bus.write([0x00], to: 0x80) }
        bus.close()
        #expect {
            try bus.write([0xFD], to: 0x44)
        } throws: { ($0 as? HardwareError)?.errno == .badFileDescriptor }
    }

    @Test("permission denied names the group to join", .enabled(if: getuid() != 0))
    func permission() throws {
        #expect {
            _ = try I2CBus(path: "/etc/shadow")
        } throws: { ($0 as? HardwareError)?.errno == .permissionDenied }
    }

    @Test("the hint for EACCES on an I2C bus names the i2c group")
    func permissionHint() {
        let e = HardwareError(DeviceLocation(path: "/dev/i2c-1"), operation: "open", errno: .permissionDenied)
        #expect(e.description.contains("i2c group"))
    }

    @Test("a missing GPIO chip is ENOENT naming the path")
    func missingChip() {
        #expect {
            _ = try GPIOChip(path: "/dev/gpiochip-snuffel-missing")
        } throws: { error in
            guard let e = error as? HardwareError else { return false }
            return e.errno == .noSuchFileOrDirectory && e.location.path == "/dev/gpiochip-snuffel-missing"
        }
    }

    @Test("a missing serial port is an error naming the path")
    func missingSerialPort() {
        #expect {
            _ = try SerialPort(path: "/dev/ttySNUFFELMISSING")
        } throws: { error in
            guard let e = error as? HardwareError else { return false }
            return e.location.path == "/dev/ttySNUFFELMISSING" && e.operation == "open"
        }
    }

    @Test("real I2C bus: probe scan", .enabled(if: ProcessInfo.processInfo.environment["SNUFFEL_TEST_I2C"] != nil))
    func realBus() throws {
        let path = ProcessInfo.processInfo.environment["SNUFFEL_TEST_I2C"] ?? ""
        let bus = try I2CBus(path: path)
        let found = try (0x08...0x77).map(UInt8.init).filter { try bus.probe($0) }
        print("devices on \(path): \(found.map(hex))")
    }

    @Test("real GPIO chip: lines", .enabled(if: ProcessInfo.processInfo.environment["SNUFFEL_TEST_GPIOCHIP"] != nil))
    func realChip() throws {
        let chip = try GPIOChip(path: ProcessInfo.processInfo.environment["SNUFFEL_TEST_GPIOCHIP"] ?? "")
        #expect(chip.lineCount() > 0)
    }
}

@Suite("Simulated GPIO line")
struct SimulatedGPIOLineTests {
    @Test("output levels are recorded; input edges arrive in order with timestamps; timeouts; released line")
    func line() throws {
        let clock = SimulatedClock()
        let line = SimulatedGPIOLine(name: "sim:gpiochip0 line 17", clock: clock)
        try line.set(true)
        clock.advance(microseconds: 500)
        try line.set(false)
        #expect(line.history.map(\.level) == [true, false] && line.history.map(\.time) == [0, 500])
        line.schedule(true, at: 2_000)
        line.schedule(true, at: 2_500)  // no edge: already high
        line.schedule(false, at: 3_000)
        #expect(try line.waitForEdge(timeoutMicroseconds: 10_000) == GPIOEdgeEvent(rising: true, timestampNanoseconds: 2_000_000))
        #expect(try line.waitForEdge(timeoutMicroseconds: 10_000) == GPIOEdgeEvent(rising: false, timestampNanoseconds: 3_000_000))
        #expect(try line.waitForEdge(timeoutMicroseconds: 1_000) == nil && clock.now() == 4_000)
        line.release()
        #expect {
            _ = try line.get()
        } throws: { ($0 as? HardwareError)?.description.hasPrefix("sim:gpiochip0 line 17: get: EBADF") == true }
    }
}
