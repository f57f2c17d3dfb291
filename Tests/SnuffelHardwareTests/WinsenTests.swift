import Testing

@testable import SnuffelHardware

func winsenPort(_ twin: WinsenTwin) -> (SimulatedSerialPort, SimulatedClock) {
    let clock = SimulatedClock()
    return (SimulatedSerialPort(device: twin, clock: clock), clock)
}

@Suite("Winsen ZE07 module against its twin")
struct WinsenTests {
    @Test("checksums of the manual's frames")
    func checksums() {
        #expect(WinsenModule.checksum(WinsenModule.Frame.questionAndAnswerMode) == 0x46)
        #expect(WinsenModule.checksum(WinsenModule.Frame.activeMode) == 0x47)
        #expect(WinsenModule.checksum(WinsenModule.Frame.readConcentration) == 0x79)
        // The ZE07-CH2O manual's answer example: FF 86 00 2A 00 00 00 20 30.
        #expect(WinsenModule.checksum([0xFF, 0x86, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x20, 0x30]) == 0x30)
    }

    @Test("question and answer: the exact frames both ways")
    func questionAndAnswer() throws {
        let twin = WinsenTwin(environment: { _ in Air(gases: ["co": 3.2]) })
        let (port, clock) = winsenPort(twin)
        let module = WinsenModule(port: port, resolution: 0.1)
        try module.useQuestionAndAnswerMode()
        let reading = try module.read()
        #expect(reading.raw == 32 && abs(reading.concentration - 3.2) < 1e-9)
        #expect(clock.trace.events == [
            .serialWrite([0xFF, 0x01, 0x78, 0x41, 0x00, 0x00, 0x00, 0x00, 0x46]),
            .serialWrite([0xFF, 0x01, 0x86, 0x00, 0x00, 0x00, 0x00, 0x00, 0x79]),
            .serialRead([0xFF]),
            // ZE07-CO/ZE03 answer: the concentration in bytes 2-3 (0x0020 = 3.2 ppm at 0.1 ppm), 4-7 reserved.
            .serialRead([0x86, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x5A]),
        ])
    }

    @Test("active upload once a second, and answers found among uploads in flight")
    func activeMode() throws {
        let twin = WinsenTwin(environment: { t in Air(gases: ["co": Double(t / 1_000_000)]) })
        let (port, clock) = winsenPort(twin)
        let module = WinsenModule(port: port, resolution: 0.1, timeoutMilliseconds: 1_500)
        let first = try module.readActiveUpload()
        #expect(first.gasCode == 0x04 && first.fullRange == 5000 && first.raw == 10)
        #expect(try module.readActiveUpload().raw == 20)
        #expect(clock.now() > 2_000_000)
        // Still in active mode: the answer is found behind any upload.
        clock.advance(microseconds: 995_000)
        #expect(try module.read().raw >= 20)
    }

    @Test("garbage is skipped; a bad checksum, silence, stuck, unplug and replug")
    func failures() throws {
        var air = Air(gases: ["co": 1])
        let twin = WinsenTwin(environment: { _ in air })
        let (port, clock) = winsenPort(twin)
        let module = WinsenModule(port: port, resolution: 0.1, timeoutMilliseconds: 200)
        try module.useQuestionAndAnswerMode()
        twin.injectGarbage([0x00, 0x13, 0x86, 0x42], at: clock.now())
        #expect(try module.read().raw == 10)

        twin.faults.badChecksum = true
        #expect {
            _ = try module.read()
        } throws: { error in
            guard case .checksumMismatch(let at, _, _, _) = error as? SensorError else { return false }
            return at.path == "sim:tty"
        }
        twin.faults.badChecksum = false

        twin.faults.nack = true
        #expect {
            _ = try module.read()
        } throws: { error in
            if case .timeout = error as? SensorError { return true }
            return false
        }
        twin.faults.nack = false

        twin.faults.stuck = true
        let before = try module.read()
        air.gases["co"] = 5
        #expect(try module.read() == before)
        twin.faults.stuck = false

        port.unplug()
        #expect {
            _ = try module.read()
        } throws: { ($0 as? SensorError) == .bus(HardwareError(DeviceLocation(path: "sim:tty"), operation: "write", errno: .ioError)) }
        port.replug()
        // Replugged, the module is back in active mode: switch again, then read.
        try module.useQuestionAndAnswerMode()
        #expect(try module.read().raw == 50)

        twin.injectGarbage([UInt8](repeating: 0x00, count: 100), at: clock.now())
        #expect(throws: SensorError.self) { _ = try module.read() }
    }
}
