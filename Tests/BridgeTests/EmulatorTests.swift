import BridgeProtocol
import Foundation
import SnuffelCore
import SnuffelWire
import Testing

/// The bridge firmware running in qemu-system-arm's netduinoplus2 (STM32F405), its UART on
/// a TCP port, and the host side of the link.
final class EmulatedBridge {
    static let firmware = packageRoot + "/firmware-bridge/build/bridge.elf"

    let process: Process
    let port: UInt16
    let stderr: Pipe
    let stream: FileDescriptorStream
    var decoder = BridgeDecoder()
    var errors: [BridgeDecoderError] = []
    var sequence: UInt32 = 0
    /// Host time of each frame's arrival, seconds since the connection.
    var arrivals: [(time: Double, frame: BridgeFrame)] = []
    let connected = Date()

    /// Finds qemu on the PATH.
    static func qemuPath() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/qemu-system-arm"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A port that was free a moment ago: bound to port 0, read back, closed.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let status = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1
            }
        }
        try #require(status == 0, "no free TCP port")
        return UInt16(bigEndian: address.sin_port)
    }

    /// Starts qemu with the firmware, its UART a TCP server on a free port, and waits
    /// (at most `timeout` seconds) until it listens.
    static func startQEMU(timeout: Double = 10) throws -> (process: Process, port: UInt16, stderr: Pipe) {
        let qemu = try #require(qemuPath(), "qemu-system-arm is not installed: run scripts/setup (or scripts/test, which runs it)")
        try #require(FileManager.default.fileExists(atPath: firmware),
                     "\(firmware) is missing: run make -C firmware-bridge (scripts/test does)")
        let port = try freePort()
        let process = Process()
        let stderr = Pipe()
        process.executableURL = URL(fileURLWithPath: qemu)
        process.arguments = ["-M", "netduinoplus2", "-nographic", "-monitor", "none", "-kernel", firmware,
                             "-serial", "tcp:127.0.0.1:\(port),server=on,wait=on"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        // qemu listens before the guest starts: wait for the socket in /proc/net/tcp (state
        // 0A, LISTEN), or for qemu to die, or the deadline.
        let deadline = Date().addingTimeInterval(timeout)
        let entry = String(format: ":%04X 00000000:0000 0A", port)
        while process.isRunning && Date() < deadline {
            if let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8), table.contains(entry) {
                return (process, port, stderr)
            }
            Thread.sleep(forTimeInterval: 0.02)  // poll interval, bounded by the deadline
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let message = String(decoding: stderr.fileHandleForReading.availableData, as: UTF8.self)
        throw EmulatorFailure("qemu did not open its UART on port \(port) within \(timeout) s: \(message)")
    }

    /// Starts qemu and connects to its UART.
    init() throws {
        (process, port, stderr) = try Self.startQEMU()
        do {
            stream = try FileDescriptorStream.connect(host: "127.0.0.1", port: port)
        } catch {
            kill(process.processIdentifier, SIGKILL)
            throw error
        }
    }

    deinit {
        // SIGKILL: qemu inherits the test runner's blocked signals and would ignore SIGTERM.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The next frame, waiting at most until `deadline`.
    func nextFrame(before deadline: Date) throws -> BridgeFrame {
        while true {
            do {
                if let frame = try decoder.next() {
                    arrivals.append((Date().timeIntervalSince(connected), frame))
                    return frame
                }
            } catch {
                errors.append(error)
                continue
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 || !process.isRunning {
                throw EmulatorFailure("the firmware stalled: no frame before the deadline (qemu running: \(process.isRunning))")
            }
            decoder.append(contentsOf: try stream.read(maximumCount: 4096, timeoutMilliseconds: Int(remaining * 1000) + 1))
        }
    }

    /// How much longer than on an idle machine a frame may take: qemu gets little CPU while
    /// the test runner's other suites load both cores (a CI run saw the three emulator
    /// suites take 105–111 s instead of 7, and a frame miss a 3 s deadline).
    static let patience = 4.0

    /// Frames until one satisfies `match`, within `seconds` (on an idle machine; see
    /// ``patience``).
    @discardableResult
    func frame(within seconds: Double, where match: (BridgeFrame) -> Bool) throws -> BridgeFrame {
        let deadline = Date().addingTimeInterval(seconds * Self.patience)
        while true {
            let frame = try nextFrame(before: deadline)
            if match(frame) { return frame }
        }
    }

    /// Sends a command frame and waits for its acknowledgement.
    func command(_ command: BridgeCommand) throws -> BridgeAcknowledgement {
        try send(BridgeFrame(sequence: sequence, time: 0, message: .command(command)).encoded())
    }

    /// Sends raw bytes as the host's next frame and waits for the acknowledgement of that
    /// sequence number.
    func send(_ wire: [UInt8]) throws -> BridgeAcknowledgement {
        let sent = sequence
        sequence += 1
        try stream.write(wire)
        let frame = try frame(within: 3) {
            if case .acknowledgement(let ack) = $0.message { return ack.commandSequence == sent }
            return false
        }
        guard case .acknowledgement(let ack) = frame.message else { throw EmulatorFailure("not an acknowledgement") }
        return ack
    }

    /// The sample blocks received so far, with their frame times.
    var blocks: [(time: UInt64, block: BridgeSampleBlock, arrival: Double)] {
        arrivals.compactMap {
            if case .samples(let block) = $0.frame.message { return ($0.frame.time, block, $0.time) }
            return nil
        }
    }
}

struct EmulatorFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Checks sample blocks: contiguous in the bridge's time at `interval`, the test signal's
/// sawtooth (one step per scan, channel c at 512 c above channel 0), the given mask.
func checkBlocks(_ blocks: ArraySlice<(time: UInt64, block: BridgeSampleBlock, arrival: Double)>, mask: UInt16, interval: UInt32) {
    var nextTime: UInt64?
    var nextValue: UInt16?
    for (time, block, _) in blocks {
        #expect(block.channelMask == mask)
        #expect(block.intervalMicroseconds == interval)
        #expect(block.flags == .testSignal)
        if let nextTime { #expect(time == nextTime, "a gap in the bridge's time") }
        nextTime = time + UInt64(block.scanCount) * UInt64(interval)
        let channels = (0..<16).filter { mask & (1 << $0) != 0 }
        for scan in 0..<block.scanCount {
            let values = block.values[(scan * channels.count)..<((scan + 1) * channels.count)]
            let base = (Int(values.first ?? 0) - 512 * (channels.first ?? 0)) & 0xFFF
            for (channel, value) in zip(channels, values) {
                #expect(Int(value) == (base + 512 * channel) & 0xFFF, "channel \(channel)")
            }
            if let nextValue { #expect(UInt16(base) == nextValue, "the test signal skipped a scan") }
            nextValue = UInt16((base + 1) & 0xFFF)
        }
    }
}

@Suite("Bridge firmware in qemu-system-arm", .serialized)
struct EmulatorTests {
    static let skipped = ProcessInfo.processInfo.environment["SNUFFEL_SKIP_PEERS"] == "1"

    @Test("the firmware streams 100 Hz sample frames with continuous sequence, time and test signal, and answers every command",
          .disabled(if: skipped, "SNUFFEL_SKIP_PEERS=1: the emulator run is skipped"),
          .timeLimit(.minutes(3)))
    func emulatedBridge() throws {
        let bridge = try EmulatedBridge()

        // Start: a status frame, sequence 0, self-test passed on the MCU.
        let first = try bridge.frame(within: 5) { _ in true }
        #expect(first.sequence == 0)
        guard case .status(let status) = first.message else {
            Issue.record("the first frame is not a status frame: \(first)")
            return
        }
        #expect(status.flags == [.selfTestPassed, .emulated, .watchdogRunning])
        #expect(status.firmwareMajor == 1 && status.sampleRateHertz == 100 && status.channelMask == 0xFF)
        #expect(status.channelCount == 8)

        // About 1.2 s of streaming at the default 100 Hz.
        try bridge.frame(within: 5) { $0.time >= 1_200_000 }
        let defaultBlocks = bridge.blocks
        #expect(defaultBlocks.count >= 20)
        checkBlocks(defaultBlocks[...], mask: 0xFF, interval: 10_000)
        #expect(defaultBlocks.allSatisfy { $0.block.scanCount == 5 }, "100 Hz: 5 scans per 50 ms block")
        // Rate against the host's clock: qemu keeps time with the host, loosely under load.
        if let firstBlock = defaultBlocks.first, let lastBlock = defaultBlocks.last, lastBlock.arrival > firstBlock.arrival {
            let scans = defaultBlocks.dropLast().reduce(0) { $0 + $1.block.scanCount }
            let rate = Double(scans) / (lastBlock.arrival - firstBlock.arrival)
            #expect(rate > 50 && rate < 200, "\(rate) scans/s over the host's clock, 100 expected")
        }

        // Commands, each acknowledged with what is in force.
        let ping = try bridge.command(.ping)
        #expect(ping == BridgeAcknowledgement(commandType: 0x80, commandSequence: 0, result: .ok, value: 0x01_01_00))
        let rate = try bridge.command(.setRate(hertz: 200))
        #expect(rate.result == .ok && rate.value == 200)
        let channels = try bridge.command(.enableChannels(mask: 0b0000_0101))
        #expect(channels.result == .ok && channels.value == 5)
        let marker = bridge.arrivals.count
        try bridge.frame(within: 3) {
            if case .samples(let block) = $0.message { return block.scanCount == 10 && $0.time > 0 } else { return false }
        }
        try bridge.frame(within: 3) { _ in bridge.blocks.count > 0 && bridge.arrivals.count > marker + 12 }
        let newBlocks = bridge.arrivals[marker...].compactMap { arrival -> (time: UInt64, block: BridgeSampleBlock, arrival: Double)? in
            if case .samples(let block) = arrival.frame.message, block.channelMask == 0b101 { return (arrival.frame.time, block, arrival.time) }
            return nil
        }
        #expect(newBlocks.count >= 5)
        checkBlocks(newBlocks.dropFirst()[...], mask: 0b101, interval: 5_000)

        let badRate = try bridge.command(.setRate(hertz: 300))
        #expect(badRate.result == .badArgument && badRate.value == 200, "300 Hz does not divide 1000")
        let badMask = try bridge.command(.enableChannels(mask: 0x0100))
        #expect(badMask.result == .badArgument && badMask.value == 5)
        let outputs = try bridge.command(.setOutputs(mask: 0b1001, levels: 0b1111))
        #expect(outputs.result == .ok && outputs.value == 0b1001)
        // A type the bridge does not know, and a command with a payload of the wrong length.
        let unknown = try bridge.send(rawFrame(type: 0x9F, sequence: bridge.sequence, payload: []))
        #expect(unknown.result == .unknownCommand && unknown.commandType == 0x9F)
        let malformed = try bridge.send(rawFrame(type: 0x81, sequence: bridge.sequence, payload: [1]))
        #expect(malformed.result == .malformed)
        // A corrupted frame gets no answer but is counted in the next status.
        var corrupt = BridgeFrame(sequence: 99, time: 0, message: .command(.ping)).encoded()
        corrupt[5] ^= 0x40
        try bridge.stream.write(corrupt)
        let counted = try bridge.frame(within: 3) {
            if case .status(let status) = $0.message { return status.rejectedFrames >= 3 } else { return false }
        }
        if case .status(let status) = counted.message {
            #expect(status.rejectedFrames == 3 && status.outputs == 0b1001 && status.sampleRateHertz == 200)
        }

        // Reset: acknowledged, then the bridge starts again at sequence 0 with its defaults.
        let reset = try bridge.command(.reset)
        #expect(reset.result == .ok)
        let restarted = try bridge.frame(within: 5) { $0.sequence == 0 }
        if case .status(let status) = restarted.message {
            #expect(status.sampleRateHertz == 100 && status.channelMask == 0xFF && status.outputs == 0)
        } else {
            Issue.record("the first frame after reset is not a status frame")
        }

        #expect(bridge.errors.isEmpty, "\(bridge.errors)")
        #expect(bridge.decoder.statistics.crcFailures == 0)
        #expect(bridge.decoder.statistics.lostFrames == 0)
        #expect(bridge.decoder.statistics.restarts == 1)
    }
}

/// A host frame with any type byte and payload, CRC and COBS done right.
func rawFrame(type: UInt8, sequence: UInt32, payload: [UInt8]) -> [UInt8] {
    var raw: [UInt8] = [BridgeWire.version, type]
    for shift in stride(from: 0, to: 32, by: 8) { raw.append(UInt8(truncatingIfNeeded: sequence >> UInt32(shift))) }
    raw += [UInt8](repeating: 0, count: 8) + payload
    let crc = CRC16.checksum(raw)
    raw += [UInt8(crc >> 8), UInt8(crc & 0xFF)]
    var wire: [UInt8] = []
    COBS.encode(raw, appendingTo: &wire)
    return wire + [0]
}

@Suite("snuffel bridge monitor against the firmware in qemu-system-arm", .serialized)
struct MonitorCommandTests {
    /// The `snuffel` executable beside the test bundle.
    static var executable: URL {
        let here = Bundle.main.bundleURL
        let candidates = [here, here.deletingLastPathComponent()].map { $0.appendingPathComponent("snuffel") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
            ?? URL(fileURLWithPath: packageRoot + "/.build/debug/snuffel")
    }

    @Test("monitor --tcp sets rate and channels, shows every acknowledgement and counts no loss",
          .disabled(if: EmulatorTests.skipped, "SNUFFEL_SKIP_PEERS=1: the emulator run is skipped"),
          .timeLimit(.minutes(3)))
    func monitor() throws {
        let qemu = try EmulatedBridge.startQEMU()
        defer {
            kill(qemu.process.processIdentifier, SIGKILL)
            qemu.process.waitUntilExit()
        }
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["bridge", "monitor", "--tcp", "127.0.0.1:\(qemu.port)", "--seconds", "2.5",
                             "--rate", "50", "--channels", "0,3"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("status: firmware 1.0, 100 Hz, channels 0,1,2,3,4,5,6,7 of 8"), "\(text)")
        #expect(text.contains("self-test passed, emulated (test signal)"))
        #expect(text.contains("ping: ok, protocol 1, firmware 1.0"), "\(text)")
        #expect(text.contains("setRate(hertz: 50): ok, in force: 50"))
        #expect(text.contains("enableChannels(mask: 9): ok, in force: 9"))
        #expect(text.contains("2 ch every 20000 µs"), "\(text)")
        let summary = text.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.contains("lost 0  CRC errors 0  other refused 0  restarts 0"), "\(summary)")
    }

    /// Runs `snuffel` with `arguments`; its status and its output (stdout and stderr).
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// A payload file whose bridge source is `link` (TOML lines), in a scratch directory.
    static func payloadFile(bridge link: String) throws -> String {
        let path = NSTemporaryDirectory() + "snuffel-monitor-\(UUID().uuidString).toml"
        let text = """
            signatures = "\(packageRoot)/calibration/signatures.toml"
            [payload]
            name = "monitor-test"
            [[sources]]
            id = "bridge"
            \(link)
            rate_hz = 100
            [[channels]]
            id = "pid"
            kind = "pid"
            rate_hz = 100
            calibration = {}
            source = "bridge"
            source_channel = 0
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("monitor --config connects to the payload's bridge source",
          .disabled(if: EmulatorTests.skipped, "SNUFFEL_SKIP_PEERS=1: the emulator run is skipped"),
          .timeLimit(.minutes(3)))
    func monitorFromConfiguration() throws {
        let qemu = try EmulatedBridge.startQEMU()
        defer {
            kill(qemu.process.processIdentifier, SIGKILL)
            qemu.process.waitUntilExit()
        }
        let config = try Self.payloadFile(bridge: "kind = \"bridge\"\ntcp = \"127.0.0.1:\(qemu.port)\"")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let (status, text) = try Self.run(["bridge", "monitor", "--config", config, "--seconds", "1.5"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("connected to") && text.contains("\(qemu.port)"), "\(text)")
        #expect(text.contains("ping: ok, protocol 1, firmware 1.0"), "\(text)")
    }

    @Test("monitor --config without a bridge source, or with --port too, says what is wrong")
    func configurationRefusals() throws {
        let config = try Self.payloadFile(bridge: "kind = \"serial\"\ndevice = \"/dev/ttyUSB0\"")
        defer { try? FileManager.default.removeItem(atPath: config) }
        // A serial source takes no rate_hz: the file is refused, naming the key.
        let refused = try Self.run(["bridge", "monitor", "--config", config])
        #expect(refused.status != 0)
        #expect(refused.output.contains("sources.bridge.rate_hz: unknown key 'rate_hz'"), "\(refused.output)")
        let both = try Self.run(["bridge", "monitor", "--config", config, "--port", "/dev/ttyACM0"])
        #expect(both.status != 0 && both.output.contains("only one of them"), "\(both.output)")
    }

    @Test("monitor without --port or --tcp says what to give")
    func usage() throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["bridge", "monitor"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(text.contains("--port (e.g. --port /dev/ttyACM0), or --tcp host:port"), "\(text)")
    }
}

@Suite("snuffeld reading the bridge firmware in qemu-system-arm", .serialized)
struct DaemonBridgeTests {
    static var daemon: URL {
        MonitorCommandTests.executable.deletingLastPathComponent().appendingPathComponent("snuffeld")
    }

    @Test("the daemon asks the bridge for its rate and channels and logs its samples at that rate on the payload's channels",
          .disabled(if: EmulatorTests.skipped, "SNUFFEL_SKIP_PEERS=1: the emulator run is skipped"),
          .timeLimit(.minutes(3)))
    func daemonReadsBridge() throws {
        let qemu = try EmulatedBridge.startQEMU()
        defer {
            kill(qemu.process.processIdentifier, SIGKILL)
            qemu.process.waitUntilExit()
        }
        let path = NSTemporaryDirectory() + "snuffel-daemon-bridge-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let payload = path + "/payload.toml"
        try """
            signatures = "\(packageRoot)/calibration/signatures.toml"
            [payload]
            name = "bridge-daemon-test"
            [[sources]]
            id = "bridge"
            kind = "bridge"
            tcp = "127.0.0.1:\(qemu.port)"
            rate_hz = 50
            [[channels]]
            id = "pid"
            kind = "pid"
            rate_hz = 50
            calibration = {}
            source = "bridge"
            source_channel = 3
            [[channels]]
            id = "nh3"
            kind = "electrochemical"
            gas = "nh3"
            rate_hz = 50
            calibration = {}
            source = "bridge"
            source_channel = 0
            """.write(toFile: payload, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = Self.daemon
        process.arguments = ["--config", payload, "--mavlink-port", "0", "--log-dir", path + "/logs"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        // Let it record for about three seconds of the bridge's stream.
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline && process.isRunning { usleep(100_000) }
        process.terminate()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("bridge (bridge at tcp 127.0.0.1:\(qemu.port))"), "\(text)")
        let log = try #require((try FileManager.default.contentsOfDirectory(atPath: path + "/logs")).first { $0.hasSuffix(".ulg") })
        var reader = try ULogReader(contentsOfFile: path + "/logs/" + log)
        var samples: [Sample] = []
        while let record = try reader.next() { if case .sample(let s) = record { samples.append(s) } }
        let pid = samples.filter { $0.channel == 0 }, nh3 = samples.filter { $0.channel == 1 }
        #expect(pid.count >= 75 && nh3.count >= 75, "\(pid.count) and \(nh3.count) samples in about 3 s at 50 Hz")
        #expect(abs(pid.count - nh3.count) <= 2)
        // The bridge's clock runs at its rate: 20 ms between scans.
        let steps = zip(pid.dropFirst(), pid).map { Int64($0.time) - Int64($1.time) }
        let median = steps.sorted()[steps.count / 2]
        #expect(median == 20_000, "\(median) µs between samples")
        #expect(pid.allSatisfy { $0.value.isFinite && $0.value >= 0 && $0.value <= 4095 }, "12-bit ADC counts")
    }
}
