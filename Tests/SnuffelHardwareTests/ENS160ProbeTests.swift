import Testing

@testable import SnuffelHardware

@Suite("ENS160 against its twin")
struct ENS160Tests {
    @Test("part id, standard mode, compensation input, status and data: the exact register traffic")
    func trace() throws {
        let twin = ENS160Twin(environment: { _ in Air(gases: ["voc": 0.5]) })
        let (bus, clock) = simulatedBus([twin])
        let sensor = ENS160(bus: bus, clock: clock)
        try sensor.identify()
        try sensor.setMode(.standard)
        try sensor.setCompensation(temperature: 25, humidity: 50)
        // 298.15 K · 64 = 19081.6 → 19082 = 0x4A8A; 50 % · 512 = 25600 = 0x6400.
        #expect(twin.compensation.temperature == 0x4A8A && twin.compensation.humidity == 0x6400)
        let sample = try sensor.read()
        #expect(sample == ENS160.Sample(aqi: 2, tvoc: 500, eco2: 650, validity: .warmUp))
        let events = clock.trace.events
        #expect(events.prefix(4) == [
            .writeRead(address: 0x53, written: [0x00], read: [0x60, 0x01]),
            .write(address: 0x53, bytes: [0x10, 0x02]),
            .sleep(microseconds: 10_000),
            .write(address: 0x53, bytes: [0x13, 0x8A, 0x4A, 0x00, 0x64]),
        ])
        #expect(events.last == .writeRead(address: 0x53, written: [0x21], read: [0x02, 0xF4, 0x01, 0x8A, 0x02]))
        clock.advance(microseconds: 200_000_000)
        #expect(try sensor.read().validity == .normal)
    }

    @Test("wrong part id, not in standard mode (timeout), stuck, NACK")
    func failures() throws {
        var air = Air()
        let twin = ENS160Twin(environment: { _ in air })
        let (bus, clock) = simulatedBus([twin])
        let sensor = ENS160(bus: bus, clock: clock)
        #expect(throws: SensorError.self) { _ = try sensor.read() }
        #expect(throws: SensorError.self) { try ENS160(bus: bus, address: 0x52, clock: clock).identify() }
        try sensor.setMode(.standard)
        twin.faults.stuck = true
        let first = try sensor.read()
        air.gases["voc"] = 3
        #expect(try sensor.read().tvoc == first.tvoc)
        twin.faults.nack = true
        #expect(throws: SensorError.self) { _ = try sensor.read() }
    }
}

/// A device Snuffel does not drive (an OLED display at 0x3C).
final class UnknownTwin: SimulatedI2CDevice {
    let address: UInt8 = 0x3C
    let partName = "display"
    var faults = TwinFaults()
    func receive(_ bytes: [UInt8], at time: UInt64) -> Bool { true }
    func transmit(_ count: Int, at time: UInt64) -> [UInt8]? { [UInt8](repeating: 0, count: count) }
    func powerOn(at time: UInt64) {}
}

@Suite("Payload probe")
struct ProbeTests {
    @Test("the simulated payload: every part identified, self-tested where it can be, sampled")
    func simulatedPayload() throws {
        let payload = SimulatedPayload()
        let prober = PayloadProber(clock: payload.clock)
        let parts = try prober.scan(payload.bus)
        #expect(parts.map(\.part) == ["SHT4x", "ADS1115", "ENS160", "SGP41", "BME688"])
        #expect(parts.allSatisfy { $0.problem == nil && $0.sample != nil })
        #expect(parts.first { $0.part == "SGP41" }?.selfTest == "passed")
        #expect(prober.examine(serial: payload.serialPort).part == "Winsen ZE07")
    }

    @Test("an unknown device, a failing self-test and a part with bad CRC are reported with what to do")
    func problems() throws {
        let payload = SimulatedPayload()
        payload.bus.attach(UnknownTwin())
        payload.bus.device(at: 0x59)?.faults.selfTestFailure = true
        payload.bus.device(at: 0x44)?.faults.badChecksum = true
        payload.bus.unplug(0x76)
        let parts = try PayloadProber(clock: payload.clock).scan(payload.bus)
        let unknown = try #require(parts.first { $0.location.address == 0x3C })
        #expect(unknown.part == nil && unknown.problem?.contains("unknown device at 0x3C") == true)
        #expect(parts.first { $0.part == "SGP41" }?.selfTest?.hasPrefix("FAILED") == true)
        #expect(parts.first { $0.location.address == 0x44 }?.problem?.contains("bad checksum") == true)
        #expect(!parts.contains { $0.location.address == 0x76 })
    }
}
