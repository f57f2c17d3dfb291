import ArgumentParser
import BridgeProtocol
import Dispatch
import Foundation
import SnuffelConfig
import SnuffelWire

/// `snuffel bridge`: the microcontroller that samples the analog sensors.
struct BridgeTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "Check the bridge microcontroller that samples the analog sensors (PID, electrochemical cells).",
        discussion: """
            The bridge (firmware-bridge/, an STM32F405 running Embedded Swift) samples its analog \
            inputs at a fixed rate and streams frames over a serial line (firmware-bridge/PROTOCOL.md).
            """,
        subcommands: [BridgeMonitor.self])
}

/// `snuffel bridge monitor`: frames, rate and losses of a bridge, live.
struct BridgeMonitor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Show a bridge's frames, sample rate and losses live.",
        discussion: """
            Connects to a bridge, asks its firmware version (ping), optionally sets its rate and \
            channels, and then shows what arrives: frames and samples per second, frames lost \
            (gaps in the bridge's sequence numbers), frames refused (CRC errors and other damage), \
            restarts of the bridge, and the bridge's own counters from its status frames. On a \
            terminal this is one line that updates; otherwise one line a second. It stops after \
            --seconds, or on Ctrl-C, and prints a summary. The exit status is 0 if no frame was \
            lost or refused after the first good frame, 1 otherwise.

            Examples:
              snuffel bridge monitor --port /dev/ttyACM0
              snuffel bridge monitor --port /dev/ttyUSB0 --baud 115200 --rate 200 --channels 0,1,2,3
              snuffel bridge monitor --tcp 127.0.0.1:5760 --seconds 10 --frames
              snuffel bridge monitor --config payload.toml

            --config takes the bridge's serial port (or TCP address) and baud rate from the \
            payload configuration's bridge source ([[sources]] with kind = "bridge"); it does not \
            change the bridge's rate or channels unless --rate or --channels says so.

            --tcp connects to the firmware running in qemu: `make -C firmware-bridge qemu` starts it \
            with its UART on tcp 127.0.0.1:5760 and waits for this connection.
            """)

    @Option(help: ArgumentHelp("The bridge's serial device, opened in raw mode (8N1).", valueName: "device"))
    var port: String?

    @Option(help: ArgumentHelp("The serial line's speed (9600 to 921600; the firmware uses 115200).", valueName: "baud"))
    var baud: Int = 115_200

    @Option(help: ArgumentHelp("Connect over TCP instead (qemu's emulated UART).", valueName: "host:port"))
    var tcp: String?

    @Option(name: [.short, .long], help: ArgumentHelp("Payload configuration (TOML) whose bridge source gives the port and baud rate.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("With --config: the bridge source's id, when the payload has several.", valueName: "id"))
    var source: String?

    @Option(help: ArgumentHelp("Stop after this many seconds (default: run until Ctrl-C).", valueName: "n"))
    var seconds: Double?

    @Option(help: ArgumentHelp("Set the sample rate first, in Hz (a divisor of 1000, up to 1000).", valueName: "hz"))
    var rate: UInt16?

    @Option(help: ArgumentHelp("Sample only these channels, e.g. 0,1,4 (0 to 15).", valueName: "list"))
    var channels: String?

    @Flag(help: "Print every frame (and every refused one) as it arrives.")
    var frames = false

    func validate() throws {
        if [port != nil, tcp != nil, config != nil].filter({ $0 }).count != 1 {
            throw ValidationError(
                "Give the bridge's serial device with --port (e.g. --port /dev/ttyACM0), or --tcp host:port for the emulator, or --config payload.toml for the payload's bridge source; only one of them.")
        }
        if source != nil && config == nil { throw ValidationError("--source names a bridge source of --config; give --config too.") }
        if let tcp, Self.parseAddress(tcp) == nil {
            throw ValidationError("--tcp wants host:port, e.g. --tcp 127.0.0.1:5760; got '\(tcp)'.")
        }
        if port != nil && !Self.baudRates.contains(baud) {
            throw ValidationError("--baud must be one of \(Self.baudRates.map(String.init).joined(separator: ", ")); the firmware uses 115200.")
        }
        if let seconds, !(seconds > 0) { throw ValidationError("--seconds must be more than 0.") }
        if let channels, Self.channelMask(channels) == nil {
            throw ValidationError("--channels wants channel numbers 0 to 15 separated by commas, e.g. 0,1,4; got '\(channels)'.")
        }
        if let rate, rate == 0 || rate > 1000 { throw ValidationError("--rate must be 1 to 1000 Hz.") }
    }

    /// The speeds ``FileDescriptorStream/openSerialDevice(_:baudRate:)`` can set.
    static let baudRates = [9600, 19200, 38400, 57600, 115_200, 230_400, 460_800, 921_600]

    static func parseAddress(_ text: String) -> (host: String, port: UInt16)? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), port > 0
        else { return nil }
        let host = String(text[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    static func channelMask(_ text: String) -> UInt16? {
        var mask: UInt16 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let channel = Int(item.trimmingCharacters(in: .whitespaces)), (0..<16).contains(channel) else { return nil }
            mask |= 1 << UInt16(channel)
        }
        return mask
    }

    /// Where the bridge is: --port, --tcp, or the configuration's bridge source.
    func link() throws -> PayloadSource.Link {
        if let tcp, let address = Self.parseAddress(tcp) { return .tcp(host: address.host, port: address.port) }
        guard let config else { return .serial(device: port ?? "", baud: baud) }
        let configuration = try PayloadOptions.load(path: config)
        do {
            return try configuration.bridgeSource(source).link
        } catch {
            throw Failure("\(error)")
        }
    }

    func run() throws {
        let stream: FileDescriptorStream
        let link = try link()
        do {
            switch link {
            case .tcp(let host, let port):
                stream = try FileDescriptorStream.connect(host: host, port: port)
            case .serial(let device, let baud):
                stream = try FileDescriptorStream.openSerialDevice(device, baudRate: baud)
            case .i2c:
                throw Failure("a bridge is not on an I2C bus")
            }
        } catch {
            throw Failure("\(error)")
        }
        let interrupt = InterruptFlag()
        var session = MonitorSession(stream: stream, printFrames: frames)
        session.say("connected to \(stream.endpoint); Ctrl-C stops")
        var commands: [BridgeCommand] = [.ping]
        if let rate { commands.append(.setRate(hertz: rate)) }
        if let channels, let mask = Self.channelMask(channels) { commands.append(.enableChannels(mask: mask)) }
        session.queued = commands
        let end = seconds.map { Date().addingTimeInterval($0) }
        while !interrupt.isSet, end.map({ Date() < $0 }) ?? true {
            let wait = end.map { max(1, min(200, Int($0.timeIntervalSinceNow * 1000))) } ?? 200
            do {
                try session.receive(stream.read(maximumCount: 4096, timeoutMilliseconds: wait))
            } catch {
                session.finish()
                throw Failure("\(error)")
            }
            try session.sendQueuedCommand()
            session.report(final: false)
        }
        if let command = session.pending?.command { session.say("no answer to \(command)") }
        session.finish()
        if !session.isClean { throw ExitCode(1) }
    }
}

/// What the monitor has seen, and its output.
struct MonitorSession {
    let stream: any ByteStream
    let printFrames: Bool
    let isTerminal = isatty(STDOUT_FILENO) != 0
    var decoder = BridgeDecoder()
    var sequence: UInt32 = 0
    var sentCommands: [UInt32: BridgeCommand] = [:]
    /// Commands to send, one at a time, once the bridge has been heard.
    var queued: [BridgeCommand] = []
    /// The command sent and not yet acknowledged: its frame, when it was sent, how often.
    var pending: (command: BridgeCommand, wire: [UInt8], sent: Date, attempts: Int)?
    let start = Date()
    var lastReport = Date()
    var reportedFrames = 0
    var reportedSamples = 0
    var lastStatus: BridgeStatus?
    var sampleShape = ""
    /// Refused frames before the first good frame (the line was mid-frame when we came).
    var rejectedBeforeFirstFrame = 0
    var liveLineShown = false

    init(stream: any ByteStream, printFrames: Bool) {
        self.stream = stream
        self.printFrames = printFrames
    }

    /// No frame lost or refused after the first good one.
    var isClean: Bool {
        let statistics = decoder.statistics
        return statistics.lostFrames == 0 && statistics.rejectedFrames == rejectedBeforeFirstFrame
    }

    /// Sends the next queued command once a frame has come (a bridge that is still
    /// starting drops what it receives), and sends it again after a second without an
    /// answer, three times at most.
    mutating func sendQueuedCommand() throws {
        guard decoder.statistics.frames > 0 else { return }
        if let pending {
            guard Date().timeIntervalSince(pending.sent) > 1 else { return }
            guard pending.attempts < 3 else {
                say("no answer to \(pending.command) after 3 tries")
                self.pending = nil
                return try sendQueuedCommand()
            }
            self.pending = (pending.command, pending.wire, Date(), pending.attempts + 1)
            try write(pending.wire)
            return
        }
        guard !queued.isEmpty else { return }
        let command = queued.removeFirst()
        let wire = BridgeFrame(sequence: sequence, time: 0, message: .command(command)).encoded()
        sentCommands[sequence] = command
        sequence &+= 1
        pending = (command, wire, Date(), 1)
        try write(wire)
    }

    func write(_ wire: [UInt8]) throws {
        do {
            try stream.write(wire)
        } catch {
            throw Failure("\(error)")
        }
    }

    mutating func receive(_ bytes: [UInt8]) {
        decoder.append(contentsOf: bytes)
        while true {
            do {
                guard let frame = try decoder.next() else { return }
                handle(frame)
            } catch {
                if decoder.statistics.frames == 0 { rejectedBeforeFirstFrame += 1 }
                if printFrames { say("refused: \(error)") }
            }
        }
    }

    mutating func handle(_ frame: BridgeFrame) {
        let time = String(format: "%.3f s", Double(frame.time) / 1e6)
        switch frame.message {
        case .samples(let block):
            sampleShape = "\(block.channelCount) ch every \(block.intervalMicroseconds) µs"
            if printFrames {
                say("#\(frame.sequence) \(time) samples: \(block.scanCount) scans of channels \(Self.channels(block.channelMask)), "
                    + "flags \(Self.flagNames(block.flags)), first scan \(block.values.prefix(block.channelCount).map(String.init).joined(separator: " "))")
            }
        case .status(let status):
            if lastStatus == nil || printFrames || status.channelMask != lastStatus?.channelMask
                || status.sampleRateHertz != lastStatus?.sampleRateHertz
            {
                say("#\(frame.sequence) \(time) status: firmware \(status.firmwareMajor).\(status.firmwareMinor), "
                    + "\(status.sampleRateHertz) Hz, channels \(Self.channels(status.channelMask)) of \(status.channelCount), "
                    + "outputs \(String(status.outputs, radix: 2)), started by \(status.resetCause), "
                    + "self-test \(status.flags.contains(.selfTestPassed) ? "passed" : "FAILED")"
                    + (status.flags.contains(.emulated) ? ", emulated (test signal)" : ""))
            }
            if let last = lastStatus, status.droppedScans > last.droppedScans {
                say("the bridge dropped \(status.droppedScans - last.droppedScans) scans: its serial line cannot carry this rate and these channels")
            }
            lastStatus = status
        case .acknowledgement(let ack):
            let command = sentCommands.removeValue(forKey: ack.commandSequence)
            if command != nil && command == pending?.command { pending = nil }
            let name = command.map { "\($0)" } ?? "command type \(ack.commandType)"
            var text = "#\(frame.sequence) \(time) \(name): \(ack.result)"
            if case .ping = command, ack.result == .ok {
                text += ", protocol \(ack.value >> 16), firmware \((ack.value >> 8) & 0xFF).\(ack.value & 0xFF)"
            } else {
                text += ", in force: \(ack.value)"
            }
            say(text)
        case .command:
            if printFrames { say("#\(frame.sequence) a command frame from the bridge side: ignored") }
        }
    }

    static func channels(_ mask: UInt16) -> String {
        let list = (0..<16).filter { mask & (1 << $0) != 0 }.map(String.init)
        return list.isEmpty ? "none" : list.joined(separator: ",")
    }

    static func flagNames(_ flags: BridgeSampleFlags) -> String {
        var names: [String] = []
        if flags.contains(.testSignal) { names.append("test-signal") }
        if flags.contains(.conversionTimeout) { names.append("conversion-timeout") }
        if flags.contains(.overrun) { names.append("overrun") }
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }

    /// Prints a line above the live line.
    mutating func say(_ line: String) {
        output((liveLineShown ? "\r\u{1B}[K" : "") + line + "\n")
        liveLineShown = false
    }

    /// Writes to standard output unbuffered, so the live line shows at once.
    func output(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// The live line: every 0.5 s on a terminal, every second otherwise.
    mutating func report(final: Bool) {
        let now = Date()
        let interval = now.timeIntervalSince(lastReport)
        guard final || interval >= (isTerminal ? 0.5 : 1) else { return }
        let statistics = decoder.statistics
        let frameRate = Double(statistics.frames - reportedFrames) / max(interval, 1e-3)
        let sampleRate = Double(statistics.samples - reportedSamples) / max(interval, 1e-3)
        lastReport = now
        reportedFrames = statistics.frames
        reportedSamples = statistics.samples
        var line = String(format: "%6.1f s  frames %d", now.timeIntervalSince(start), statistics.frames)
        if !final { line += String(format: " (%.1f/s)", frameRate) }
        line += "  samples \(statistics.samples)"
        if !final { line += String(format: " (%.0f/s%@)", sampleRate, sampleShape.isEmpty ? "" : ", " + sampleShape) }
        line += "  lost \(statistics.lostFrames)  CRC errors \(statistics.crcFailures)"
        line += "  other refused \(statistics.malformedFrames + statistics.oversizedFrames)  restarts \(statistics.restarts)"
        if let status = lastStatus, status.droppedScans > 0 { line += "  dropped by bridge \(status.droppedScans)" }
        if isTerminal && !final {
            output("\r\u{1B}[K" + line)
            liveLineShown = true
        } else {
            say(line)
        }
    }

    mutating func finish() {
        report(final: true)
        if rejectedBeforeFirstFrame > 0 {
            say("(\(rejectedBeforeFirstFrame) refused before the first frame: the line was mid-frame when the monitor started)")
        }
    }
}

/// Set by Ctrl-C (SIGINT), which no longer ends the process, so the monitor can print
/// its summary.
final class InterruptFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    private let source: DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [lock] in
            lock.lock()
            defer { lock.unlock() }
            self.set = true
        }
        source.resume()
    }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return set
    }
}
