import Testing

@testable import SnuffelHardware

/// A simulated bus with one clock and trace, and parts attached.
func simulatedBus(_ devices: [any SimulatedI2CDevice]) -> (SimulatedI2CBus, SimulatedClock) {
    let clock = SimulatedClock()
    let bus = SimulatedI2CBus(clock: clock)
    for device in devices { bus.attach(device) }
    return (bus, clock)
}

func close(_ a: Double, _ b: Double, _ tolerance: Double) -> Bool { abs(a - b) <= tolerance }

@Suite("Sensirion CRC-8")
struct SensirionCRCTests {
    @Test("datasheet vectors: 0xBEEF → 0x92, and the SGP41 default compensation words")
    func vectors() {
        #expect(SensirionCRC.checksum([0xBE, 0xEF]) == 0x92)
        // SGP41 datasheet: default RH 0x8000 with CRC 0xA2, T 0x6666 with CRC 0x93.
        #expect(SensirionCRC.encode(0x8000) == [0x80, 0x00, 0xA2])
        #expect(SensirionCRC.encode(0x6666) == [0x66, 0x66, 0x93])
    }

    @Test("a wrong CRC is refused, naming the word")
    func refusal() {
        let location = DeviceLocation(path: "sim:i2c", address: 0x44)
        #expect(throws: SensorError.checksumMismatch(location, what: "x word 1", received: 0x00, expected: 0x92)) {
            _ = try SensirionCRC.decode([0x80, 0x00, 0xA2, 0xBE, 0xEF, 0x00], words: 2, at: location, what: "x")
        }
    }
}

@Suite("SHT4x against its twin")
struct SHT4xTests {
    @Test("measurement: 0xFD, wait 8.3 ms, read 6 bytes; ticks and conversion as in the datasheet")
    func measureTrace() throws {
        let twin = SHT4xTwin(environment: { _ in Air(temperature: 25, humidity: 50) })
        let (bus, clock) = simulatedBus([twin])
        let sensor = SHT4x(bus: bus, clock: clock)
        let m = try sensor.measure()
        // 25 °C → (25 + 45) · 65535 / 175 = 26214 = 0x6666; 50 % → 56 · 65535 / 125 = 29359.7 → 29360 = 0x72B0.
        #expect(clock.trace.events == [
            .write(address: 0x44, bytes: [0xFD]),
            .sleep(microseconds: 8_300),
            .read(address: 0x44, bytes: [0x66, 0x66, 0x93, 0x72, 0xB0, 0xDC]),
        ])
        #expect(m.rawTemperature == 0x6666 && m.rawHumidity == 0x72B0)
        #expect(close(m.temperature, 25, 0.01) && close(m.humidity, 50, 0.01))
        #expect(SHT4x.humidity(ticks: 0) == 0 && SHT4x.humidity(ticks: 0xFFFF) == 100)
    }

    @Test("serial number and soft reset")
    func serialAndReset() throws {
        let twin = SHT4xTwin(serialNumber: 0x1234_5678)
        let (bus, clock) = simulatedBus([twin])
        let sensor = SHT4x(bus: bus, clock: clock)
        #expect(try sensor.serialNumber() == 0x1234_5678)
        try sensor.softReset()
        #expect(clock.trace.events.suffix(2) == [.write(address: 0x44, bytes: [0x94]), .sleep(microseconds: 1_000)])
    }

    @Test("a slow part is polled until it answers; a much slower one times out")
    func slow() throws {
        let twin = SHT4xTwin()
        let (bus, clock) = simulatedBus([twin])
        let sensor = SHT4x(bus: bus, clock: clock)
        twin.faults.slowdown = 1.3  // 10.8 ms: three polls after 8.3 ms
        _ = try sensor.measure()
        let nacks = clock.trace.events.filter { if case .nack = $0 { return true } else { return false } }
        #expect(nacks.count == 3)
        twin.faults.slowdown = 5
        #expect(throws: SensorError.self) { _ = try sensor.measure() }
        do {
            _ = try sensor.measure()
        } catch {
            guard case .timeout(let at, _) = error else { Issue.record("expected a timeout, got \(error)"); return }
            #expect(at == DeviceLocation(path: "sim:i2c", address: 0x44))
        }
    }

    @Test("NACK, bad CRC, stuck value, unplugged and replugged")
    func failures() throws {
        var air = Air(temperature: 20, humidity: 40)
        let twin = SHT4xTwin(environment: { _ in air })
        let (bus, clock) = simulatedBus([twin])
        let sensor = SHT4x(bus: bus, clock: clock)

        twin.faults.nack = true
        #expect {
            _ = try sensor.measure()
        } throws: { error in
            guard case .bus(let e) = error as? SensorError else { return false }
            return e.errno == .noSuchDeviceOrAddress && e.location.address == 0x44 && e.description.contains("sim:i2c @0x44")
        }
        twin.faults.nack = false

        twin.faults.badChecksum = true
        #expect {
            _ = try sensor.measure()
        } throws: { error in
            if case .checksumMismatch(_, let what, _, _) = error as? SensorError { return what == "measurement word 0" }
            return false
        }
        twin.faults.badChecksum = false

        twin.faults.stuck = true
        let first = try sensor.measure()
        air.temperature = 30
        #expect(try sensor.measure() == first)
        twin.faults.stuck = false
        #expect(close(try sensor.measure().temperature, 30, 0.01))

        bus.unplug(0x44)
        #expect(throws: SensorError.self) { _ = try sensor.measure() }
        bus.replug(0x44)
        #expect(close(try sensor.measure().temperature, 30, 0.01))
    }
}

@Suite("SGP41 against its twin")
struct SGP41Tests {
    @Test("measure_raw with default compensation: the datasheet's bytes 26 19 80 00 A2 66 66 93, wait 50 ms, read 6")
    func measureRawDefaultTrace() throws {
        let twin = SGP41Twin()
        let (bus, clock) = simulatedBus([twin])
        let sensor = SGP41(bus: bus, clock: clock)
        _ = try sensor.conditioning()
        clock.trace.clear()
        let raw = try sensor.measureRaw()
        #expect(raw == SGP41.RawSignals(voc: 30000, nox: 20000))
        #expect(clock.trace.events == [
            .write(address: 0x59, bytes: [0x26, 0x19, 0x80, 0x00, 0xA2, 0x66, 0x66, 0x93]),
            .sleep(microseconds: 50_000),
            .read(address: 0x59, bytes: SensirionCRC.encode(30000) + SensirionCRC.encode(20000)),
        ])
    }

    @Test("conditioning, compensation from an SHT4x reading, serial number, self-test, heater off")
    func commands() throws {
        let twin = SGP41Twin(serialNumber: 0x0000_1234_ABCD, environment: { _ in Air(gases: ["voc": 0.5, "nox": 0.05]) })
        let (bus, clock) = simulatedBus([twin])
        let sensor = SGP41(bus: bus, clock: clock)
        // Before conditioning the twin's NOx pixel reads 0.
        #expect(try sensor.measureRaw().nox == 0)
        let voc = try sensor.conditioning(humidity: 50, temperature: 25)
        #expect(clock.trace.events.suffix(3).first == .write(address: 0x59, bytes: [0x26, 0x12, 0x80, 0x00, 0xA2, 0x66, 0x66, 0x93]))
        #expect(voc == 30000 - 870)  // 1255 · ln 2 ticks below clean air
        let ticks = SGP41.compensationTicks(humidity: 40.5, temperature: 21.3)
        _ = try sensor.measureRaw(humidity: 40.5, temperature: 21.3)
        #expect(twin.lastCompensation?.humidity == ticks.humidity && twin.lastCompensation?.temperature == ticks.temperature)
        #expect(ticks.humidity == 26542 && ticks.temperature == 24828)  // 40.5·65535/100, 66.3·65535/175 rounded
        #expect(try sensor.serialNumber() == 0x0000_1234_ABCD)
        clock.trace.clear()
        #expect(try sensor.selfTest().passed)
        #expect(clock.trace.events == [
            .write(address: 0x59, bytes: [0x28, 0x0E]),
            .sleep(microseconds: 320_000),
            .read(address: 0x59, bytes: [0xD4, 0x00, SensirionCRC.checksum([0xD4, 0x00])]),
        ])
        try sensor.turnHeaterOff()
        #expect(!twin.heaterOn)
    }

    @Test("self-test failure, bad CRC, stuck, NACK, replug needs conditioning again")
    func failures() throws {
        var air = Air()
        let twin = SGP41Twin(environment: { _ in air })
        let (bus, clock) = simulatedBus([twin])
        let sensor = SGP41(bus: bus, clock: clock)
        twin.faults.selfTestFailure = true
        let test = try sensor.selfTest()
        #expect(!test.passed && !test.vocPixelOK && !test.noxPixelOK)
        twin.faults.selfTestFailure = false

        twin.faults.badChecksum = true
        #expect(throws: SensorError.self) { _ = try sensor.measureRaw() }
        twin.faults.badChecksum = false

        _ = try sensor.conditioning()
        twin.faults.stuck = true
        let before = try sensor.measureRaw()
        air.gases["voc"] = 5
        #expect(try sensor.measureRaw() == before)
        twin.faults.stuck = false
        #expect(try sensor.measureRaw().voc < before.voc)

        bus.unplug(0x59)
        #expect(throws: SensorError.self) { _ = try sensor.measureRaw() }
        bus.replug(0x59)
        #expect(try sensor.measureRaw().nox == 0)  // power-on state: not conditioned
        _ = try sensor.conditioning()
        #expect(try sensor.measureRaw().nox == 20000)
    }
}

@Suite("I2CDevice")
struct I2CDeviceTests {
    @Test("write, stop, wait, read: the SHT4x serial number by hand")
    func writeThenRead() throws {
        let (bus, clock) = simulatedBus([SHT4xTwin(serialNumber: 0x0102_0304)])
        let device = I2CDevice(bus: bus, address: 0x44)
        let bytes = try device.writeThenRead([0x89], waitMicroseconds: 1_000, clock: clock, readCount: 6)
        #expect(bytes == SensirionCRC.encode(0x0102) + SensirionCRC.encode(0x0304))
        #expect(clock.trace.events.map(\.description) == ["0x44 W 0x89", "sleep 1000 µs", "0x44 R 0x01 0x02 0x17 0x03 0x04 0x68"])
        #expect(device.location.description == "sim:i2c @0x44")
    }
}
