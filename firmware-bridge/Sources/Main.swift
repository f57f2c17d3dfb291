// The bridge firmware: SysTick samples the enabled channels at the set rate into a ring
// of scans; the main loop sends them as sample frames, answers commands, sends a status
// frame every second, blinks the LED and feeds the watchdog. Frames are BridgeProtocol's
// (compiled into this image from Sources/BridgeProtocol of the Swift package).
import Synchronization

/// The firmware's version, reported in status frames and ping acknowledgements.
let firmwareMajor: UInt8 = 1
let firmwareMinor: UInt8 = 0

// MARK: - State shared with the interrupt handlers

/// Milliseconds since start (SysTick count), wrapping after 49 days.
let tickCount = Atomic<UInt32>(0)
/// What SysTick samples: channel mask in the high half, ticks between scans in the low.
let samplingConfiguration = Atomic<UInt32>(0x00FF_0000 | 10)
/// Scans SysTick could not store because the ring was full.
let droppedScans = Atomic<UInt32>(0)
/// ADC conversions that did not finish.
let conversionTimeouts = Atomic<UInt32>(0)

/// Scans from SysTick (the only writer of `head`) to the main loop (the only writer of
/// `tail`). The slots' storage is allocated once, before interrupts start.
enum ScanRing {
    static let capacity: UInt32 = 128
    static let head = Atomic<UInt32>(0)
    static let tail = Atomic<UInt32>(0)
    nonisolated(unsafe) static let values = UnsafeMutablePointer<UInt16>.allocate(
        capacity: Int(capacity) * Board.channelCount)
    nonisolated(unsafe) static let ticks = UnsafeMutablePointer<UInt32>.allocate(capacity: Int(capacity))
    nonisolated(unsafe) static let configurations = UnsafeMutablePointer<UInt32>.allocate(capacity: Int(capacity))
    nonisolated(unsafe) static let flags = UnsafeMutablePointer<UInt16>.allocate(capacity: Int(capacity))
}

/// Bytes from the USART1 interrupt (the only writer of `head`) to the main loop.
enum ReceiveRing {
    static let capacity: UInt32 = 256
    static let head = Atomic<UInt32>(0)
    static let tail = Atomic<UInt32>(0)
    nonisolated(unsafe) static let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: Int(capacity))
}

// State of the SysTick handler alone.
nonisolated(unsafe) var ticksToNextScan: UInt32 = 1
nonisolated(unsafe) var scanNumber: UInt32 = 0
nonisolated(unsafe) var scanDropped = false

// MARK: - Interrupt handlers

@_cdecl("bridge_systick")
func bridgeSysTick() {
    let tick = tickCount.wrappingAdd(1, ordering: .relaxed).newValue
    ticksToNextScan -= 1
    guard ticksToNextScan == 0 else { return }
    let configuration = samplingConfiguration.load(ordering: .relaxed)
    ticksToNextScan = max(1, configuration & 0xFFFF)
    let mask = UInt16(truncatingIfNeeded: configuration >> 16)
    let number = scanNumber
    scanNumber &+= 1
    guard mask != 0 else { return }
    let head = ScanRing.head.load(ordering: .relaxed)
    guard head &- ScanRing.tail.load(ordering: .acquiring) < ScanRing.capacity else {
        droppedScans.wrappingAdd(1, ordering: .relaxed)
        scanDropped = true
        return
    }
    let slot = Int(head % ScanRing.capacity)
    var flags: BridgeSampleFlags = scanDropped ? .overrun : []
    scanDropped = false
    let values = ScanRing.values + slot * Board.channelCount
    for channel in 0..<Board.channelCount where mask & (1 << UInt16(channel)) != 0 {
        if Board.isEmulated {
            // The test signal: a 12-bit sawtooth per channel, one step per scan,
            // channel c offset by 512 c (firmware-bridge/README.md).
            flags.insert(.testSignal)
            values[channel] = UInt16(truncatingIfNeeded: (number &+ UInt32(channel) &* 512) & 0x0FFF)
        } else if let value = Board.convert(channel: channel) {
            values[channel] = value
        } else {
            flags.insert(.conversionTimeout)
            conversionTimeouts.wrappingAdd(1, ordering: .relaxed)
            values[channel] = 0xFFFF
        }
    }
    ScanRing.ticks[slot] = tick
    ScanRing.configurations[slot] = configuration
    ScanRing.flags[slot] = flags.rawValue
    ScanRing.head.store(head &+ 1, ordering: .releasing)
}

@_cdecl("bridge_usart1")
func bridgeUSART1() {
    // Reading SR then DR clears RXNE and an overrun (RM0090 section 30.6.1).
    let status = USART1.sr.value
    guard status & (USART1.srReceiveNotEmpty | USART1.srOverrun) != 0 else { return }
    let byte = UInt8(truncatingIfNeeded: USART1.dr.value)
    let head = ReceiveRing.head.load(ordering: .relaxed)
    // A full ring drops the byte; the frame it belonged to then fails its CRC.
    guard head &- ReceiveRing.tail.load(ordering: .acquiring) < ReceiveRing.capacity else { return }
    ReceiveRing.bytes[Int(head % ReceiveRing.capacity)] = byte
    ReceiveRing.head.store(head &+ 1, ordering: .releasing)
}

// MARK: - Main loop

@_cdecl("bridge_main")
func bridgeMain() -> Never {
    // Touch the rings' storage before interrupts can use it.
    _ = ScanRing.values
    _ = ScanRing.ticks
    _ = ScanRing.configurations
    _ = ScanRing.flags
    _ = ReceiveRing.bytes
    var bridge = Bridge(selfTestPassed: BridgeExamples.selfTest())
    bridge.resetCause = Board.start()
    Board.startWatchdog()
    bridge.run()
}

struct Bridge {
    static let maximumCommandSize = 64

    var resetCause = BridgeResetCause.unknown
    var flags: BridgeStatusFlags
    var sequence: UInt32 = 0
    var rateHertz: UInt16 = 100
    var channelMask: UInt16 = 0x00FF
    var outputs: UInt8 = 0
    var rejectedFrames: UInt32 = 0
    // Time: the 32-bit tick count extended to 64 bits.
    var lastTick: UInt32 = 0
    var tickHigh: UInt64 = 0
    var nextStatusTick: UInt64 = 1000
    var nextLEDTick: UInt64 = 500
    var ledOn = false
    // Buffers, reused for every frame.
    var wire: [UInt8] = []
    var scratch: [UInt8] = []
    var values: [UInt16] = []
    var command: [UInt8] = []
    var discardingCommand = false

    init(selfTestPassed: Bool) {
        flags = selfTestPassed ? [.selfTestPassed] : []
        wire.reserveCapacity(BridgeWire.maximumEncodedFrameSize)
        scratch.reserveCapacity(BridgeWire.maximumEncodedFrameSize)
        values.reserveCapacity(BridgeWire.maximumPayloadSize / 2)
        command.reserveCapacity(Self.maximumCommandSize)
    }

    mutating func run() -> Never {
        flags.insert(.watchdogRunning)
        if Board.isEmulated { flags.insert(.emulated) }
        // A delimiter first: whatever the line held before, the first frame stands alone.
        Board.transmit([BridgeWire.delimiter])
        sendStatus()
        while true {
            Board.refreshWatchdog()
            receiveCommands()
            sendSamples()
            let now = currentTick()
            if now >= nextStatusTick {
                nextStatusTick = now + 1000
                sendStatus()
            }
            if now >= nextLEDTick {
                nextLEDTick = now + 500
                ledOn.toggle()
                Board.setLED(ledOn)
            }
            if ScanRing.head.load(ordering: .acquiring) == ScanRing.tail.load(ordering: .relaxed)
                && ReceiveRing.head.load(ordering: .acquiring) == ReceiveRing.tail.load(ordering: .relaxed)
            {
                bridge_wait_for_interrupt()
            }
        }
    }

    /// Milliseconds since start, extended past the 32-bit wrap.
    mutating func currentTick() -> UInt64 {
        let tick = tickCount.load(ordering: .relaxed)
        if tick < lastTick { tickHigh += 1 << 32 }
        lastTick = tick
        return tickHigh | UInt64(tick)
    }

    /// The 64-bit time of a tick that is not in the future.
    mutating func extend(_ tick: UInt32) -> UInt64 {
        let now = currentTick()
        return now - UInt64(lastTick &- tick)
    }

    mutating func send(_ message: BridgeMessage, time: UInt64) {
        wire.removeAll(keepingCapacity: true)
        let frame = BridgeFrame(sequence: sequence, time: time, message: message)
        guard frame.encode(appendingTo: &wire, scratch: &scratch) else { return }
        sequence &+= 1
        Board.transmit(wire)
    }

    mutating func sendStatus() {
        let status = BridgeStatus(
            firmwareMajor: firmwareMajor, firmwareMinor: firmwareMinor, resetCause: resetCause, flags: flags,
            sampleRateHertz: rateHertz, channelMask: channelMask, outputs: outputs,
            channelCount: UInt8(Board.channelCount), droppedScans: droppedScans.load(ordering: .relaxed),
            conversionTimeouts: conversionTimeouts.load(ordering: .relaxed), rejectedFrames: rejectedFrames)
        send(.status(status), time: currentTick() * 1000)
    }

    // MARK: Samples

    /// Sends the scans in the ring as blocks of about 50 ms (at least one scan); a block
    /// ends early where the configuration changes or scans were dropped.
    mutating func sendSamples() {
        while true {
            let head = ScanRing.head.load(ordering: .acquiring)
            let tail = ScanRing.tail.load(ordering: .relaxed)
            let available = head &- tail
            guard available > 0 else { return }
            let first = Int(tail % ScanRing.capacity)
            let configuration = ScanRing.configurations[first]
            let mask = UInt16(truncatingIfNeeded: configuration >> 16)
            let interval = max(1, configuration & 0xFFFF)
            let channels = mask.nonzeroBitCount
            let target = max(1, min(Int(1000 / interval) / 20, BridgeSampleBlock.maximumScanCount(channelCount: channels)))
            var blockFlags = BridgeSampleFlags(rawValue: ScanRing.flags[first])
            var count = 1
            var ended = false
            while count < target && UInt32(count) < available {
                let slot = Int((tail &+ UInt32(count)) % ScanRing.capacity)
                let previous = Int((tail &+ UInt32(count - 1)) % ScanRing.capacity)
                let slotFlags = BridgeSampleFlags(rawValue: ScanRing.flags[slot])
                if ScanRing.configurations[slot] != configuration || slotFlags.contains(.overrun)
                    || ScanRing.ticks[slot] != ScanRing.ticks[previous] &+ interval
                {
                    ended = true
                    break
                }
                blockFlags.formUnion(slotFlags)
                count += 1
            }
            guard count == target || ended else { return }  // wait for the rest of the block
            values.removeAll(keepingCapacity: true)
            for scan in 0..<count {
                let slot = Int((tail &+ UInt32(scan)) % ScanRing.capacity)
                let slotValues = ScanRing.values + slot * Board.channelCount
                for channel in 0..<Board.channelCount where mask & (1 << UInt16(channel)) != 0 {
                    values.append(slotValues[channel])
                }
            }
            let time = extend(ScanRing.ticks[first]) * 1000
            ScanRing.tail.store(tail &+ UInt32(count), ordering: .releasing)
            let block = BridgeSampleBlock(
                channelMask: mask, intervalMicroseconds: interval * 1000, flags: blockFlags, values: values)
            send(.samples(block), time: time)
        }
    }

    // MARK: Commands

    mutating func receiveCommands() {
        while true {
            let head = ReceiveRing.head.load(ordering: .acquiring)
            let tail = ReceiveRing.tail.load(ordering: .relaxed)
            guard head != tail else { return }
            let byte = ReceiveRing.bytes[Int(tail % ReceiveRing.capacity)]
            ReceiveRing.tail.store(tail &+ 1, ordering: .releasing)
            if byte == BridgeWire.delimiter {
                if !discardingCommand && !command.isEmpty { handleCommand() }
                command.removeAll(keepingCapacity: true)
                discardingCommand = false
            } else if discardingCommand {
                continue
            } else if command.count == Self.maximumCommandSize {
                rejectedFrames &+= 1
                discardingCommand = true
            } else {
                command.append(byte)
            }
        }
    }

    mutating func handleCommand() {
        let frame: BridgeFrame
        do {
            frame = try BridgeFrame.decode(encoded: command, scratch: &scratch)
        } catch {
            rejectedFrames &+= 1
            // Past the CRC check the header is sound: answer unknown or malformed commands.
            switch error {
            case .unknownType(let type):
                acknowledge(type: type, sequence: decodedSequence(), result: .unknownCommand, value: 0)
            case .badPayloadLength(let type, _):
                acknowledge(type: type, sequence: decodedSequence(), result: .malformed, value: 0)
            default:
                break
            }
            return
        }
        guard case .command(let command) = frame.message else {
            rejectedFrames &+= 1
            return
        }
        let type = command.type.rawValue
        switch command {
        case .ping:
            let value = UInt32(BridgeWire.version) << 16 | UInt32(firmwareMajor) << 8 | UInt32(firmwareMinor)
            acknowledge(type: type, sequence: frame.sequence, result: .ok, value: value)
        case .setRate(let hertz):
            if hertz >= 1 && hertz <= 1000 && 1000 % hertz == 0 {
                rateHertz = hertz
                applySamplingConfiguration()
                acknowledge(type: type, sequence: frame.sequence, result: .ok, value: UInt32(hertz))
            } else {
                acknowledge(type: type, sequence: frame.sequence, result: .badArgument, value: UInt32(rateHertz))
            }
        case .enableChannels(let mask):
            if mask >> UInt16(Board.channelCount) == 0 {
                channelMask = mask
                applySamplingConfiguration()
                acknowledge(type: type, sequence: frame.sequence, result: .ok, value: UInt32(mask))
            } else {
                acknowledge(type: type, sequence: frame.sequence, result: .badArgument, value: UInt32(channelMask))
            }
        case .setOutputs(let mask, let levels):
            if Int(mask) >> Board.outputPins.count == 0 {
                outputs = (outputs & ~mask) | (levels & mask)
                for index in 0..<Board.outputPins.count where mask & (1 << UInt8(index)) != 0 {
                    Board.setOutput(index, high: outputs & (1 << UInt8(index)) != 0)
                }
                acknowledge(type: type, sequence: frame.sequence, result: .ok, value: UInt32(outputs))
            } else {
                acknowledge(type: type, sequence: frame.sequence, result: .badArgument, value: UInt32(outputs))
            }
        case .reset:
            acknowledge(type: type, sequence: frame.sequence, result: .ok, value: 0)
            Board.flushTransmitter()
            Board.reset()
        }
    }

    /// The sequence number of the frame in `scratch` (decoded, CRC checked).
    func decodedSequence() -> UInt32 {
        UInt32(scratch[2]) | UInt32(scratch[3]) << 8 | UInt32(scratch[4]) << 16 | UInt32(scratch[5]) << 24
    }

    mutating func acknowledge(type: UInt8, sequence commandSequence: UInt32, result: BridgeCommandResult, value: UInt32) {
        let ack = BridgeAcknowledgement(
            commandType: type, commandSequence: commandSequence, result: result, value: value)
        send(.acknowledgement(ack), time: currentTick() * 1000)
    }

    func applySamplingConfiguration() {
        samplingConfiguration.store(UInt32(channelMask) << 16 | UInt32(1000 / rateHertz), ordering: .relaxed)
    }
}
