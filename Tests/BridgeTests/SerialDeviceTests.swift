import BridgeProtocol
import Foundation
import SnuffelWire
import Testing

@Suite("Serial device in raw mode")
struct SerialDeviceTests {
    @Test("a pseudo-terminal opened as the bridge's serial port passes every byte value both ways, unchanged")
    func rawPseudoTerminal() throws {
        var controller: Int32 = -1
        var device: Int32 = -1
        try #require(openpty(&controller, &device, nil, nil, nil) == 0, "openpty failed: errno \(errno)")
        defer {
            close(controller)
            close(device)
        }
        let path = String(cString: try #require(ttyname(device)))
        let stream = try FileDescriptorStream.openSerialDevice(path, baudRate: 115_200)

        // Every example frame, and bytes a cooked terminal would change or swallow: CR
        // (ICRNL), XON/XOFF (IXON), Ctrl-C (ISIG), DEL and Ctrl-D (ICANON).
        let special: [UInt8] = [0x0D, 0x11, 0x13, 0x03, 0x7F, 0x04, 0x0A]
        let frames = BridgeExamples.all.map(\.frame) + [BridgeFrame(
            sequence: 0x0D11_1303, time: 0x7F04_0A0D, message: .samples(BridgeSampleBlock(
                channelMask: 0x0D0F, intervalMicroseconds: 0x0313_7F04, values: special.map { UInt16($0) * 0x0101 })))]
        let wire = frames.flatMap { $0.encoded() } + special + [0]
        _ = wire.withUnsafeBytes { write(controller, $0.baseAddress, $0.count) }
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(5)
        while received.count < wire.count && Date() < deadline {
            received += try stream.read(maximumCount: 4096, timeoutMilliseconds: 200)
        }
        #expect(received == wire)
        var decoder = BridgeDecoder()
        decoder.append(contentsOf: received)
        var decoded: [BridgeFrame] = []
        while true {
            do {
                guard let frame = try decoder.next() else { break }
                decoded.append(frame)
            } catch {
                continue  // the trailing special bytes are not a frame
            }
        }
        #expect(decoded == frames)

        // And from the host to the bridge.
        try stream.write(special + frames[2].encoded())
        var back = [UInt8](repeating: 0, count: 256)
        var total = 0
        while total < special.count + frames[2].encoded().count && Date() < deadline {
            let count = back.withUnsafeMutableBytes { read(controller, $0.baseAddress.map { $0 + total }, $0.count - total) }
            if count > 0 { total += count }
        }
        #expect(Array(back[..<total]) == special + frames[2].encoded())
    }

    @Test("a device that does not exist, or a baud rate termios has no name for, is an error naming the device")
    func failures() {
        #expect(throws: ByteStreamError.self) { try FileDescriptorStream.openSerialDevice("/dev/does-not-exist", baudRate: 115_200) }
        do {
            _ = try FileDescriptorStream.openSerialDevice("/dev/null", baudRate: 12_345)
            Issue.record("an unknown baud rate was accepted")
        } catch {
            #expect(error.description.hasPrefix("/dev/null: cannot open"))
        }
    }
}
