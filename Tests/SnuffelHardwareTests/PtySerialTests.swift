import Foundation
import Glibc
import Testing

@testable import SnuffelHardware

/// Whether scripts/test preloaded the pty shim (Tests/pty-shim): it exports a marker symbol.
let ptyShimLoaded: Bool = {
    guard let handle = dlopen(nil, RTLD_NOW) else { return false }
    return dlsym(handle, "snuffel_pty_shim_loaded") != nil
}()

/// A C library function that Swift's Glibc module does not declare (the pty functions need
/// _XOPEN_SOURCE), looked up by name.
func libcFunction<Function>(_ name: String, as type: Function.Type) throws -> Function {
    guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else { throw Errno.noSuchFileOrDirectory }
    return unsafeBitCast(symbol, to: type)
}

/// A pseudo-terminal pair: the test holds the master side, the code under test opens the
/// slave path through libserialport.
final class PseudoTerminal {
    private(set) var master: Int32
    let slavePath: String

    init() throws {
        let openpt = try libcFunction("posix_openpt", as: (@convention(c) (Int32) -> Int32).self)
        let grantpt = try libcFunction("grantpt", as: (@convention(c) (Int32) -> Int32).self)
        let unlockpt = try libcFunction("unlockpt", as: (@convention(c) (Int32) -> Int32).self)
        let ptsname = try libcFunction("ptsname_r", as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32).self)
        master = openpt(O_RDWR | O_NOCTTY)
        guard master >= 0, grantpt(master) == 0, unlockpt(master) == 0 else { throw Errno(rawValue: errno) }
        var name = [CChar](repeating: 0, count: 128)
        guard ptsname(master, &name, name.count) == 0 else { throw Errno(rawValue: errno) }
        slavePath = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { closeMaster() }

    /// Pulls the cable.
    func closeMaster() {
        if master >= 0 { Glibc.close(master) }
        master = -1
    }

    /// Reads what the slave side wrote, waiting (poll, not sleep) until `count` bytes came
    /// or 2 s passed.
    func receive(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while bytes.count < count {
            var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 2_000) > 0 else { break }
            let n = Glibc.read(master, &buffer, min(buffer.count, count - bytes.count))
            guard n > 0 else { break }
            bytes += buffer.prefix(n)
        }
        return bytes
    }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
    }
}

/// A real libserialport port on a pty, with the Winsen twin answering on the master side:
/// after each frame the driver writes, the twin's answer is put on the line.
final class PumpedPort: SerialPortAccess {
    let port: SerialPort
    let pty: PseudoTerminal
    let twin: WinsenTwin
    let clock = SimulatedClock()
    var path: String { port.path }

    init(pty: PseudoTerminal, twin: WinsenTwin) throws {
        self.pty = pty
        self.twin = twin
        port = try SerialPort(path: pty.slavePath)
        twin.powerOn(at: clock.now())
    }

    func write(_ bytes: [UInt8]) throws(HardwareError) {
        try port.write(bytes)
        let frame = pty.receive(bytes.count)
        twin.receive(frame, at: clock.now())
        clock.advance(microseconds: 50_000)
        pty.send(twin.transmit(upTo: Int.max, at: clock.now()))
    }

    func read(_ count: Int, timeoutMilliseconds: Int) throws(HardwareError) -> [UInt8] {
        try port.read(count, timeoutMilliseconds: timeoutMilliseconds)
    }

    func discardInput() throws(HardwareError) { try port.discardInput() }
}

@Suite("libserialport on a pseudo-terminal (needs the pty shim that scripts/test preloads)", .enabled(if: ptyShimLoaded))
struct PtySerialTests {
    @Test("the shim answers modem-control ioctls on a pty only")
    func shimScope() throws {
        let pty = try PseudoTerminal()
        let slave = open(pty.slavePath, O_RDWR | O_NOCTTY)
        defer { Glibc.close(slave) }
        var bits: Int32 = 0
        #expect(ioctl(slave, UInt(TIOCMGET), &bits) == 0 && bits & TIOCM_DSR != 0)
        let null = open("/dev/null", O_RDWR)
        defer { Glibc.close(null) }
        #expect(ioctl(null, UInt(TIOCMGET), &bits) == -1 && errno == ENOTTY)
    }

    @Test("the Winsen module through libserialport: question and answer, garbage, checksum")
    func winsenOverPty() throws {
        let pty = try PseudoTerminal()
        var air = Air(gases: ["co": 4.5])
        let twin = WinsenTwin(environment: { _ in air })
        let port = try PumpedPort(pty: pty, twin: twin)
        let module = WinsenModule(port: port, resolution: 0.1, timeoutMilliseconds: 2_000)
        try module.useQuestionAndAnswerMode()
        #expect(try module.read().raw == 45)
        air.gases["co"] = 7
        twin.injectGarbage([0x13, 0x00, 0xFE], at: port.clock.now())
        #expect(try module.read().raw == 70)
        twin.faults.badChecksum = true
        #expect {
            _ = try module.read()
        } throws: { error in
            guard case .checksumMismatch(let at, _, _, _) = error as? SensorError else { return false }
            return at.path == pty.slavePath
        }
    }

    @Test("cable pulled (master closed): an error naming the port; put back (a new pty): readings again")
    func pullAndReplug() throws {
        let pty = try PseudoTerminal()
        let twin = WinsenTwin(environment: { _ in Air(gases: ["co": 1]) })
        let port = try PumpedPort(pty: pty, twin: twin)
        let module = WinsenModule(port: port, resolution: 0.1, timeoutMilliseconds: 200)
        try module.useQuestionAndAnswerMode()
        #expect(try module.read().raw == 10)
        pty.closeMaster()
        #expect {
            _ = try module.read()
        } throws: { error in
            guard let e = error as? SensorError, e.location?.path == pty.slavePath else { return false }
            if case .bus(let bus) = e { return bus.errno == .ioError }
            return false
        }
        let again = try PseudoTerminal()
        let module2 = WinsenModule(port: try PumpedPort(pty: again, twin: twin), resolution: 0.1, timeoutMilliseconds: 2_000)
        try module2.useQuestionAndAnswerMode()
        #expect(try module2.read().raw == 10)
    }

    @Test("a module that stays silent: a timeout naming the port")
    func silence() throws {
        let pty = try PseudoTerminal()
        let twin = WinsenTwin()
        twin.faults.nack = true
        let module = WinsenModule(port: try PumpedPort(pty: pty, twin: twin), timeoutMilliseconds: 50)
        #expect {
            _ = try module.read()
        } throws: { ($0 as? SensorError)?.location?.path == pty.slavePath }
    }
}

@Suite("libserialport without the shim")
struct PtyWithoutShimTests {
    @Test("a pty is refused by name (libserialport finds no /sys entry)", .enabled(if: !ptyShimLoaded))
    func refused() throws {
        let pty = try PseudoTerminal()
        #expect {
            _ = try SerialPort(path: pty.slavePath)
        } throws: { ($0 as? HardwareError)?.location.path == pty.slavePath }
    }
}
