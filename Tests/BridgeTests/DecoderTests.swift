import BridgeProtocol
import SnuffelWire
import Testing

/// What a decoder gave for a stream.
struct Decoded: Equatable {
    var frames: [BridgeFrame] = []
    var errors: [BridgeDecoderError] = []
    var statistics = BridgeDecoderStatistics()
    var truncatedByteCount: Int?
}

/// Decodes `bytes` fed in the given chunk sizes (cycled), then finishes.
func decode(_ bytes: [UInt8], chunks: [Int]) -> Decoded {
    var decoder = BridgeDecoder()
    var result = Decoded()
    func drain() {
        while true {
            do {
                guard let frame = try decoder.next() else { return }
                result.frames.append(frame)
            } catch {
                result.errors.append(error)
            }
        }
    }
    var offset = 0
    var chunk = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunks[chunk % chunks.count])
        decoder.append(contentsOf: bytes[offset..<end])
        offset = end
        chunk += 1
        drain()
        #expect(decoder.heldByteCount <= BridgeDecoder.maximumFrameSize)
    }
    decoder.finish()
    drain()
    result.statistics = decoder.statistics
    result.truncatedByteCount = decoder.truncatedByteCount
    return result
}

/// A stream of sample frames with sequence numbers from `first`, and a status frame first.
func sampleStream(count: Int, first: UInt32 = 0) -> (frames: [BridgeFrame], bytes: [UInt8]) {
    var frames: [BridgeFrame] = []
    var bytes: [UInt8] = [0]
    for i in 0..<count {
        let sequence = first + UInt32(i)
        let message: BridgeMessage = i == 0
            ? BridgeExamples.all[1].frame.message
            : .samples(BridgeSampleBlock(channelMask: 0b1011, intervalMicroseconds: 10_000, flags: .testSignal,
                                         values: (0..<(3 * (i % 7 + 1))).map { UInt16(($0 + i) % 4096) }))
        let frame = BridgeFrame(sequence: sequence, time: UInt64(i) * 50_000, message: message)
        frames.append(frame)
        bytes += frame.encoded()
    }
    return (frames, bytes)
}

@Suite("Bridge frame decoder")
struct DecoderTests {
    @Test("whole, byte by byte and in random chunks give the same frames")
    func chunking() {
        let (frames, bytes) = sampleStream(count: 200)
        let whole = decode(bytes, chunks: [bytes.count])
        #expect(whole.frames == frames)
        #expect(whole.errors.isEmpty)
        #expect(whole.statistics.frames == 200)
        #expect(whole.statistics.lostFrames == 0 && whole.statistics.rejectedFrames == 0)
        #expect(whole.truncatedByteCount == 0)
        #expect(decode(bytes, chunks: [1]) == whole)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let chunks = (0..<50).map { _ in Int.random(in: 1...300, using: &generator) }
            #expect(decode(bytes, chunks: chunks) == whole)
        }
    }

    @Test("garbage costs only the frames it touches, and is counted")
    func garbage() {
        let (frames, clean) = sampleStream(count: 30)
        // Cut the stream at frame boundaries and put garbage between some frames.
        var bytes: [UInt8] = [0x42, 0x13, 0x99]  // the link came up in the middle of something
        var boundaries: [Int] = []
        for (i, byte) in clean.enumerated() where byte == 0 { boundaries.append(i) }
        var start = 0
        for (n, end) in boundaries.enumerated() {
            bytes += clean[start...end]
            start = end + 1
            if n % 5 == 2 { bytes += [0x55, 0x00, 0xAA, 0xBB, 0xCC] }  // noise with a delimiter in it
        }
        let result = decode(bytes, chunks: [7, 1, 64])
        // Noise without a delimiter at its end runs into the next frame: frames 2, 7, ...
        // are lost, every other frame comes through.
        #expect(result.frames == frames.enumerated().filter { $0.offset % 5 != 2 }.map(\.element))
        #expect(result.statistics.lostFrames == 6)
        #expect(result.errors.count == result.statistics.rejectedFrames)
        #expect(result.statistics.rejectedFrames == 1 + 2 * 6)
        #expect(result.errors.first?.offset == 0)
        #expect(decode(bytes, chunks: [1]) == result)
    }

    @Test("a corrupted byte costs one frame: counted as a CRC failure and a lost frame")
    func corruption() {
        let (frames, clean) = sampleStream(count: 20)
        let wire10 = frames[10].encoded()
        let start = clean.firstRange(of: wire10)?.lowerBound ?? 0
        var bytes = clean
        bytes[start + 20] ^= 0x01  // flips a value bit: COBS still valid, CRC not
        let result = decode(bytes, chunks: [13])
        #expect(result.frames == frames.enumerated().filter { $0.offset != 10 }.map(\.element))
        #expect(result.statistics.crcFailures == 1)
        #expect(result.statistics.lostFrames == 1)
        #expect(result.errors.count == 1)
        if case .frame(.crcMismatch) = result.errors.first?.reason {} else {
            Issue.record("expected a CRC mismatch, got \(String(describing: result.errors.first))")
        }
        #expect(result.errors.first?.offset == start)
        #expect(result.errors.first?.description.hasPrefix("byte \(start): CRC 0x") == true)
    }

    @Test("cut frames: a stream cut at every byte gives every frame before the cut")
    func cutFrames() {
        let (frames, bytes) = sampleStream(count: 6)
        var ends: [Int] = []
        for (i, byte) in bytes.enumerated() where byte == 0 && i > 0 { ends.append(i) }
        for cut in 0...bytes.count {
            let result = decode(Array(bytes[..<cut]), chunks: [5])
            let whole = ends.filter { $0 < cut }.count
            #expect(result.frames == Array(frames.prefix(whole)), "cut at \(cut)")
            #expect(result.errors.isEmpty)
            #expect(result.truncatedByteCount == cut - ((ends.last { $0 < cut } ?? 0) + (cut > 0 ? 1 : 0)), "cut at \(cut)")
        }
        // A frame cut in the middle (its delimiter lost) runs into the next one: both are
        // rejected as one, counted, and the decoder is in step again after it.
        let zeros = bytes.indices.filter { bytes[$0] == 0 }  // the leading delimiter, then frame ends
        let spliced = Array(bytes[...zeros[1]]) + Array(bytes[(zeros[1] + 1)..<(zeros[1] + 10)]) + Array(bytes[(zeros[2] + 1)...])
        let result = decode(spliced, chunks: [3])
        #expect(result.frames == [frames[0]] + frames[3...])
        #expect(result.statistics.rejectedFrames == 1)
        #expect(result.statistics.lostFrames == 2)
    }

    @Test("lost, restarted and out-of-order sequence numbers are counted")
    func sequences() {
        let examples = BridgeExamples.all
        func frame(_ sequence: UInt32) -> [UInt8] {
            BridgeFrame(sequence: sequence, time: 0, message: examples[0].frame.message).encoded()
        }
        let bytes = [5, 6, 9, 10, 0, 1, 1, 2, UInt32.max - 1, UInt32.max, 0].flatMap(frame)
        let result = decode(bytes, chunks: [1000])
        #expect(result.statistics.frames == 11)
        // 7 and 8 are lost; 0 is a restart; the second 1 goes back; a jump of more than
        // 2^31 counts as going back, not as billions lost; max → 0 is the wrap.
        #expect(result.statistics.lostFrames == 2)
        #expect(result.statistics.restarts == 1)
        #expect(result.statistics.outOfOrderFrames == 2)
    }

    @Test("a long run without delimiters is dropped in bounded memory and the next frame decodes")
    func oversized() {
        let (frames, bytes) = sampleStream(count: 3)
        let noise = [UInt8](repeating: 0x7E, count: 10_000)
        let stream = Array(bytes[..<1]) + noise + bytes
        for chunks in [[1], [97], [20_000]] {
            let result = decode(stream, chunks: chunks)
            #expect(result.frames == frames)
            #expect(result.statistics.oversizedFrames == 1)
            #expect(result.errors.count == 1)
            #expect(result.errors.first?.reason == .frameTooLong(limit: BridgeDecoder.maximumFrameSize))
            #expect(result.errors.first?.offset == 1)
            #expect(result.statistics.discardedBytes >= 10_000 - 1)
        }
        // The same noise at the end of the input: dropped, not reported as a cut frame,
        // however it was split (found by fuzz-bridge).
        let trailing = bytes + noise
        let whole = decode(trailing, chunks: [trailing.count])
        #expect(whole.frames == frames)
        #expect(whole.truncatedByteCount == 0)
        #expect(whole.statistics.discardedBytes == noise.count)
        for chunks in [[1], [97], [300, 7]] {
            #expect(decode(trailing, chunks: chunks) == whole)
        }
    }
}
