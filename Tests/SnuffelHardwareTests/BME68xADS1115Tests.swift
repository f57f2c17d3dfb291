import Testing

@testable import SnuffelHardware

@Suite("BME688 / BME680 against their twins")
struct BME68xTests {
    @Test("identify: chip_id 0x61 and variant_id, then the three calibration blocks", arguments: [BME68x.Variant.bme688, .bme680])
    func identifyTrace(variant: BME68x.Variant) throws {
        let (bus, clock) = simulatedBus([BME68xTwin(variant: variant)])
        let sensor = BME68x(bus: bus, clock: clock)
        #expect(try sensor.identify() == variant)
        #expect(clock.trace.events == [
            .writeRead(address: 0x76, written: [0xD0], read: [0x61]),
            .writeRead(address: 0x76, written: [0xF0], read: [variant == .bme688 ? 0x01 : 0x00]),
            .writeRead(address: 0x76, written: [0x8A], read: BME68xTwin.block1),
            .writeRead(address: 0x76, written: [0xE1], read: BME68xTwin.block2),
            .writeRead(address: 0x76, written: [0x00], read: BME68xTwin.block3),
        ])
        let c = try #require(sensor.calibration)
        #expect(c.t1 == 25_942 && c.t2 == 26_664 && c.t3 == 3 && c.p1 == 36_381 && c.p2 == -10_497)
        #expect(c.h1 == 785 && c.h2 == 1029 && c.h7 == -100 && c.g1 == -40 && c.g2 == -7_680 && c.g3 == 18)
        #expect(c.heaterRange == 1 && c.heaterValue == 42)
    }

    @Test("forced mode with a heater step: the register writes, the wait, field 0; values round-trip")
    func measureTrace() throws {
        let twin = BME68xTwin(environment: { _ in Air(temperature: 23.5, humidity: 41, pressure: 98_700, gases: ["voc": 0.3]) })
        let (bus, clock) = simulatedBus([twin])
        let sensor = BME68x(bus: bus, clock: clock)
        try sensor.identify()
        clock.trace.clear()
        let m = try sensor.measure(heater: .init(temperature: 320, durationMilliseconds: 150))
        let c = twin.calibration
        let events = clock.trace.events
        #expect(events.count == 4)
        #expect(events[0] == .write(address: 0x76, bytes: [
            0x72, 0x01, 0x5A, c.heaterResistanceCode(target: 320, ambient: 25), 0x64, 0x65, 0x71, 0x20,
        ]))  // 150 ms = 37 × 4 ms: 0b01_100101
        #expect(events[1] == .write(address: 0x76, bytes: [0x74, 0x55]))
        #expect(events[2] == .sleep(microseconds: BME68x.tphDuration + 150_000))
        guard case .writeRead(0x76, [0x1D], let field) = events[3] else { Issue.record("no field read: \(events[3])"); return }
        #expect(field.count == 17 && field[0] & 0x80 != 0)
        #expect(abs(m.temperature - 23.5) < 0.01 && abs(m.humidity - 41) < 0.05 && abs(m.pressure - 98_700) < 1)
        #expect(m.gasValid && m.heaterStable)
        let r = try #require(m.gasResistance)
        #expect(abs(r / (100_000 / 1.515_716_566_510_398) - 1) < 0.01, "R = \(r)")  // 2^0.6
    }

    @Test("gas resistance and wait codes against the datasheet equations")
    func conversions() {
        let c = BME68xTwin().calibration
        // BME688: 1e6 · (262144 >> 4) / (4096 + 3 · (512 − 512)) = 4 MΩ.
        #expect(c.gasResistance(adc: 512, range: 4, variant: .bme688) == 4_000_000)
        // BME680, range 0, switching error 0: 1340 · 8e6 / (512 − 512 + 1340) = 8 MΩ.
        #expect(c.gasResistance(adc: 512, range: 0, variant: .bme680) == 8_000_000)
        #expect(BME68x.gasWaitCode(milliseconds: 100) == 0x59)  // 25 × 4
        #expect(BME68x.gasWaitCode(milliseconds: 63) == 0x3F)
        #expect(BME68x.gasWaitCode(milliseconds: 5000) == 0xFF)
        // Temperature: t_fine from the equation typed out here once more.
        let adc = 500_000.0
        let var1 = (adc / 16384 - 25_942 / 1024) * 26_664
        let var2 = (adc / 131072 - 25_942 / 8192) * (adc / 131072 - 25_942 / 8192) * 48
        #expect(abs(c.temperature(adc: adc).celsius - (var1 + var2) / 5120) < 1e-9)
    }

    @Test("a wrong chip id is refused; NACK, stuck, slow, unplug and replug")
    func failures() throws {
        var air = Air(temperature: 20)
        let twin = BME68xTwin(environment: { _ in air })
        let (bus, clock) = simulatedBus([twin])
        let sensor = BME68x(bus: bus, address: 0x76, clock: clock)
        let other = BME68x(bus: bus, address: 0x77, clock: clock)
        #expect(throws: SensorError.self) { try other.identify() }
        twin.faults.stuck = true
        let first = try sensor.measure()
        air.temperature = 30
        #expect(try sensor.measure().temperature == first.temperature)
        twin.faults.stuck = false
        twin.faults.slowdown = 1.1
        #expect(abs(try sensor.measure().temperature - 30) < 0.01)
        twin.faults.slowdown = 20
        #expect(throws: SensorError.self) { _ = try sensor.measure() }
        twin.faults.slowdown = 1
        bus.unplug(0x76)
        #expect(throws: SensorError.self) { _ = try sensor.measure() }
        bus.replug(0x76)
        #expect(abs(try sensor.measure().temperature - 30) < 0.01)
    }
}

@Suite("ADS1115 against its twin")
struct ADS1115Tests {
    @Test("single-shot with the reset settings: config 0x8583 as the datasheet's reset value, wait 1/DR, poll OS, read")
    func defaultTrace() throws {
        let twin = ADS1115Twin(environment: { _ in Air(analogVolts: [0.75, 0.25, 0, 0]) })
        let (bus, clock) = simulatedBus([twin])
        let adc = ADS1115(bus: bus, clock: clock)
        #expect(try adc.config() == 0x8583)
        clock.trace.clear()
        let code = try adc.convert(input: .differential01, gain: .fullScale2_048, rate: .sps128)
        #expect(code == 8000)  // 0.5 V · 32768 / 2.048 V
        #expect(clock.trace.events == [
            .write(address: 0x48, bytes: [0x01, 0x85, 0x83]),
            .sleep(microseconds: 8_594),
            .writeRead(address: 0x48, written: [0x01], read: [0x85, 0x83]),
            .writeRead(address: 0x48, written: [0x00], read: [0x1F, 0x40]),
        ])
    }

    @Test("each single-ended input at each gain; full scale clips; analog calibration to concentration")
    func inputs() throws {
        let twin = ADS1115Twin(environment: { _ in Air(analogVolts: [0.1, 1.0, 2.0, 5.0]) })
        let (bus, clock) = simulatedBus([twin])
        let adc = ADS1115(bus: bus, clock: clock)
        #expect(abs(try adc.volts(input: .ain0, gain: .fullScale0_256) - 0.1) < 1e-4)
        #expect(abs(try adc.volts(input: .ain1, gain: .fullScale4_096) - 1.0) < 2e-4)
        #expect(abs(try adc.volts(input: .ain2, gain: .fullScale6_144) - 2.0) < 3e-4)
        #expect(try adc.convert(input: .ain3, gain: .fullScale4_096) == 32767)
        #expect(ADS1115.configWord(input: .ain0, gain: .fullScale4_096, rate: .sps860) == 0xC3E3)
        // PID: 50 mV offset, 2 mV per ppb isobutylene.
        let pid = AnalogCalibration(zeroVolts: 0.05, voltsPerUnit: 0.002)
        #expect(abs((pid.concentration(volts: 1.05) ?? 0) - 500) < 1e-9)
        #expect(AnalogCalibration(zeroVolts: 0, voltsPerUnit: 0).concentration(volts: 1) == nil)
    }

    @Test("slow conversions are polled; stuck; NACK; replug restores the reset config")
    func failures() throws {
        var air = Air(analogVolts: [1, 0, 0, 0])
        let twin = ADS1115Twin(environment: { _ in air })
        let (bus, clock) = simulatedBus([twin])
        let adc = ADS1115(bus: bus, clock: clock)
        twin.faults.slowdown = 1.2
        #expect(try adc.convert(input: .ain0) == 8000)
        twin.faults.slowdown = 5
        #expect(throws: SensorError.self) { _ = try adc.convert(input: .ain0) }
        twin.faults.slowdown = 1
        twin.faults.stuck = true
        let first = try adc.convert(input: .ain0)
        air.analogVolts[0] = 2
        #expect(try adc.convert(input: .ain0) == first)
        twin.faults.stuck = false
        twin.faults.nack = true
        #expect {
            _ = try adc.convert(input: .ain0)
        } throws: { ($0 as? SensorError)?.location == DeviceLocation(path: "sim:i2c", address: 0x48) }
        twin.faults.nack = false
        bus.unplug(0x48)
        bus.replug(0x48)
        #expect(try adc.config() == 0x8583)
        #expect(try adc.convert(input: .ain0) == 16000)
    }
}
