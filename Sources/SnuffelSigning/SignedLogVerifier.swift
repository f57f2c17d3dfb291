import Crypto
import SnuffelWire

/// What a signed log's verification found.
public enum SignedLogVerdict: Sendable, Equatable {
    /// Every block matches its checkpoint, every checkpoint is signed by the key, and the
    /// log ends with its final checkpoint.
    case intact(SignedLogSummary)
    /// The log ends before its final checkpoint (a power cut, or a copy cut short):
    /// everything up to the last checkpoint is intact and signed; the bytes after it are
    /// not vouched for.
    case truncated(SignedLogSummary)
    /// A byte was changed, added or removed: `offset` is where the first block that
    /// does not match its checkpoint starts (or the checkpoint that is not as written).
    case altered(offset: Int, reason: String)
    /// The log was signed with another key than the one given (its header names the key).
    case wrongKey(recordedKey: String, deviceID: String?)
    /// The log has no checkpoint and records no public key: it was written unsigned.
    case unsigned
}

/// What a verification read of a log.
public struct SignedLogSummary: Sendable, Equatable {
    /// The device id recorded in the header.
    public var deviceID: String?
    /// The public key recorded in the header (hexadecimal).
    public var publicKey: String?
    /// The log's start time (µs on its clock), from the ULog header.
    public var startTime: UInt64?
    /// The checkpoints that verified.
    public var checkpoints: Int
    /// The log time (µs) of the last checkpoint that verified: the time up to which the
    /// log is vouched for; nil if none did.
    public var validUpToTime: UInt64?
    /// The bytes from the file's start to the end of the last checkpoint that verified.
    public var validByteCount: Int
    /// The bytes read.
    public var fileByteCount: Int
    /// The first mapping of the log's clock to UTC (`snuffel_clock`) within the first
    /// MiB, if any.
    public var clock: ULogClock?

    /// ``validUpToTime`` in UTC (µs since the UNIX epoch), from ``clock``; nil without
    /// either.
    public var validUpToUTC: UInt64? {
        guard let t = validUpToTime, let clock else { return nil }
        return t >= clock.time ? clock.utc &+ (t - clock.time) : clock.utc &- (clock.time - t)
    }
}

/// Verifying a log file failed before a verdict (the file could not be read).
public struct SignedLogReadError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What failed, naming the file.
    public var description: String
}

/// Verifies a signed log (``SignedLog``) as its bytes arrive, in bounded memory.
///
/// Feed the file's bytes in chunks of any size with ``append(contentsOf:)``, then call
/// ``finish()``; or call ``verify(path:key:chunkSize:)``. Memory stays at about one
/// chunk, one checkpoint and a ULog header reader, whatever the file's size.
public struct SignedLogVerifier {
    /// The key the log must be signed with.
    public let key: DevicePublicKey
    /// The most header bytes searched for the recorded device id and public key.
    static let headerLimit = 1 << 20

    /// Bytes not yet hashed; `pending[0]` is at file offset `pendingStart`.
    private var pending: [UInt8] = []
    private var pendingStart = 0
    /// Where in `pending` the search for a checkpoint resumes.
    private var searchFrom = 0
    /// Hashes `H_{k-1}` and the current block's bytes before `pendingStart`.
    private var hasher = SHA256()
    private var blockStart = 0
    private var index: UInt32 = 0
    private var finalSeen = false
    private var decided: SignedLogVerdict?
    private var summary = SignedLogSummary(checkpoints: 0, validByteCount: 0, fileByteCount: 0)
    /// Reads the header's info messages; nil once they are read.
    private var headerReader: ULogReader? = ULogReader()

    /// Creates a verifier for logs signed by `key`.
    public init(key: DevicePublicKey) {
        self.key = key
        hasher.update(data: SignedLog.initialHash)
    }

    /// The verdict reached before the end, if any (an alteration or a wrong key); feeding
    /// more bytes changes nothing then.
    public var earlyVerdict: SignedLogVerdict? { decided }

    /// Takes the next bytes of the file.
    /// - Complexity: O(*n*) in the bytes given.
    public mutating func append(contentsOf bytes: some Collection<UInt8>) {
        guard decided == nil, !bytes.isEmpty else { return }
        if finalSeen {
            decided = .altered(offset: summary.fileByteCount, reason: "bytes follow the final checkpoint")
            return
        }
        summary.fileByteCount += bytes.count
        pending.append(contentsOf: bytes)
        readHeader(pending[(pending.count - bytes.count)...])
        scan()
    }

    /// Ends the input and gives the verdict.
    public mutating func finish() -> SignedLogVerdict {
        if let decided { return decided }
        readHeader(nil)
        if finalSeen { return .intact(summary) }
        if index == 0 && summary.publicKey == nil { return .unsigned }
        return .truncated(summary)
    }

    /// Verifies a file, reading it in chunks.
    /// - Parameters:
    ///   - path: The log file.
    ///   - key: The key it must be signed with.
    ///   - chunkSize: The bytes read at a time.
    /// - Throws: ``SignedLogReadError`` if the file cannot be opened or read.
    public static func verify(path: String, key: DevicePublicKey, chunkSize: Int = 64 * 1024) throws(SignedLogReadError) -> SignedLogVerdict {
        let descriptor: FileDescriptor
        switch FileDescriptor.openForReading(path) {
        case .success(let fd): descriptor = fd
        case .failure(let failure): throw SignedLogReadError(description: "cannot open '\(path)': \(failure.message)")
        }
        var verifier = SignedLogVerifier(key: key)
        var chunk = [UInt8](repeating: 0, count: max(1, chunkSize))
        while verifier.decided == nil {
            switch chunk.withUnsafeMutableBytes({ descriptor.read(into: $0) }) {
            case .failure(let failure): throw SignedLogReadError(description: "cannot read '\(path)': \(failure.message)")
            case .success(0): return verifier.finish()
            case .success(let n): verifier.append(contentsOf: chunk[..<n])
            }
        }
        return verifier.finish()
    }

    // MARK: - Header

    /// Feeds the header reader until it has passed the info messages and met the first
    /// clock record (nil: the end of the input).
    private mutating func readHeader(_ bytes: ArraySlice<UInt8>?) {
        guard var reader = headerReader else { return }
        headerReader = nil
        if let bytes { reader.append(contentsOf: bytes) } else { reader.finish() }
        do {
            while let record = try reader.next() {
                switch record {
                case .info(let item):
                    if item.key == SignedLog.deviceIDKey { summary.deviceID = item.value.string }
                    if item.key == SignedLog.publicKeyKey { summary.publicKey = item.value.string }
                case .clock(let clock):
                    summary.clock = clock
                    summary.startTime = reader.startTime
                    return
                default:
                    // Formats and subscriptions yield no records; data comes after the header.
                    continue
                }
            }
        } catch {
            // A header ULog cannot read names no key; the chain decides the rest.
            summary.startTime = reader.startTime
            return
        }
        summary.startTime = reader.startTime
        if bytes != nil && summary.fileByteCount < Self.headerLimit { headerReader = reader }
    }

    // MARK: - Chain

    /// Finds and checks the checkpoints in `pending`, hashing the bytes between them.
    private mutating func scan() {
        let length = SignedLog.messageLength
        while decided == nil {
            guard let start = findCheckpoint() else {
                // Keep the bytes that could still begin a checkpoint.
                hash(upTo: max(0, pending.count - (length - 1)))
                return
            }
            hash(upTo: start)
            guard pending.count >= length else { return }
            check(pending[0..<length])
            guard decided == nil else { return }
            pending.removeSubrange(0..<length)
            pendingStart += length
            searchFrom = 0
            if finalSeen && !pending.isEmpty {
                decided = .altered(offset: pendingStart, reason: "bytes follow the final checkpoint")
            }
        }
    }

    /// Hashes and drops `pending[..<end]`.
    private mutating func hash(upTo end: Int) {
        guard end > 0 else { return }
        pending.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<end])) }
        pending.removeSubrange(0..<end)
        pendingStart += end
        searchFrom = max(0, searchFrom - end)
    }

    /// The index in `pending` where the first checkpoint starts, found by its message
    /// prefix or by its value's tag; nil if none starts there yet.
    private mutating func findCheckpoint() -> Int? {
        let prefix = SignedLog.messagePrefix
        let tag = SignedLog.tag
        let tagOffset = prefix.count
        let found: Int? = pending.withUnsafeBufferPointer { buffer in
            var j = searchFrom
            while j < buffer.count {
                let byte = buffer[j]
                if byte == prefix[0] && matches(buffer, at: j, prefix) { return j }
                // A tag at j puts the start at j - tagOffset; a broken prefix there is found
                // by the check. A start before the pending bytes cannot happen: the
                // bytes kept unhashed are one checkpoint long.
                if byte == tag[0] && j >= tagOffset && matches(buffer, at: j, tag) { return j - tagOffset }
                j += 1
            }
            return nil
        }
        // Patterns that run past the end are searched again when more bytes come.
        searchFrom = max(0, pending.count - (SignedLog.messageLength - 1))
        if let found { searchFrom = found }
        return found
    }

    /// Whether `pattern` is at `at` (false when it runs past the end).
    private func matches(_ buffer: UnsafeBufferPointer<UInt8>, at start: Int, _ pattern: [UInt8]) -> Bool {
        guard start + pattern.count <= buffer.count else { return false }
        for i in 0..<pattern.count where buffer[start + i] != pattern[i] { return false }
        return true
    }

    /// Checks the checkpoint that starts `pending` against the chain.
    private mutating func check(_ message: ArraySlice<UInt8>) {
        let expected = index &+ 1
        let blockRange = "bytes \(blockStart)..<\(pendingStart)"
        guard let checkpoint = SignedLog.Checkpoint(message: message) else {
            decided = .altered(offset: pendingStart, reason: "checkpoint \(expected) at offset \(pendingStart) is not as written")
            return
        }
        guard checkpoint.index == expected else {
            decided = .altered(
                offset: blockStart, reason: "checkpoint \(checkpoint.index) found where checkpoint \(expected) was due (\(blockRange))")
            return
        }
        let hash = SignedLog.finish(hasher, index: checkpoint.index, time: checkpoint.time, isFinal: checkpoint.isFinal)
        guard hash == checkpoint.hash else {
            decided = .altered(offset: blockStart, reason: "block \(expected) (\(blockRange)) does not match its checkpoint")
            return
        }
        if expected == 1 {
            // The header is in block 1, which matched: its recorded key is the writer's.
            guard let recorded = summary.publicKey else {
                decided = .altered(offset: 0, reason: "the header records no public key, yet the log has checkpoints")
                return
            }
            guard recorded == key.hex else {
                decided = .wrongKey(recordedKey: recorded, deviceID: summary.deviceID)
                return
            }
        }
        guard key.isValidSignature(checkpoint.signature, for: SignedLog.signedMessage(hash)) else {
            decided = .altered(offset: pendingStart, reason: "the signature of checkpoint \(expected) at offset \(pendingStart) does not verify")
            return
        }
        index = expected
        summary.checkpoints = Int(expected)
        summary.validUpToTime = checkpoint.time
        summary.validByteCount = pendingStart + message.count
        blockStart = summary.validByteCount
        finalSeen = checkpoint.isFinal
        hasher = SHA256()
        hasher.update(data: hash)
    }
}
