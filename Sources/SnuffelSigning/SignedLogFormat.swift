import Crypto
import SnuffelWire

/// The signed flight log: a SHA-256 hash chain over the blocks a ``ULogFileWriter``
/// writes, each block closed by a checkpoint signed with the device's Ed25519 key.
///
/// ## Layout
/// The header holds two info messages: `snuffel_device_id` and `snuffel_public_key` (64
/// hexadecimal digits). Every block the writer writes ends with a checkpoint, an info
/// message `char[245] snuffel_chain` (so pyulog and any ULog reader read it as text) of
/// fixed size, 272 bytes in all:
///
/// ```
/// SNUFFELCHAIN1 i=<index, 8 hex> t=<log time µs, 16 hex> f=<0, or 1 when final> h=<H_k, 64 hex> s=<signature, 128 hex>
/// ```
///
/// with `H_0 = SHA256("snuffel-chain-v1")` and
/// `H_k = SHA256(H_{k-1} ‖ block_k ‖ k as UInt32 LE ‖ t as UInt64 LE ‖ f as one byte)`,
/// where `block_k` is every byte of the file from the end of checkpoint `k-1` (the file's
/// start for `k = 1`) to the start of checkpoint `k`. The signature is Ed25519 over
/// `"snuffel-chain-v1" ‖ H_k`. ``ULogFileWriter/close()`` writes the final checkpoint
/// (`f=1`); nothing may follow it.
///
/// Every checkpoint is signed (a flush happens about once a second, and an Ed25519
/// signature costs tens of microseconds), so a cut log is authentic up to its last
/// checkpoint, not only consistent.
///
/// ## Why any single changed byte is found
/// The verifier finds checkpoints by two patterns that a single byte cannot both break:
/// the message's first 27 bytes (header and key) and the value's `SNUFFELCHAIN1 i=`. A
/// located checkpoint must match the layout byte for byte; its fields are in the hash,
/// the hash is signed. A changed byte in a block changes that block's hash. A log is
/// only called cut when it ends before a whole final checkpoint, which no single change
/// of a complete log can bring about.
public enum SignedLog {
    /// The info key of a checkpoint.
    public static let checkpointKey = "snuffel_chain"
    /// The info key of the device id.
    public static let deviceIDKey = "snuffel_device_id"
    /// The info key of the device's public key (64 hexadecimal digits).
    public static let publicKeyKey = "snuffel_public_key"

    /// The domain of the chain's hashes and signatures.
    static let domain = Array("snuffel-chain-v1".utf8)
    /// The value's tag.
    static let tag = Array("SNUFFELCHAIN1 i=".utf8)
    /// The length of a checkpoint's value.
    static let valueLength = 13 + 3 + 8 + 3 + 16 + 3 + 1 + 3 + 64 + 3 + 128
    /// `char[245] snuffel_chain`.
    static let keyText = Array("char[\(valueLength)] \(checkpointKey)".utf8)
    /// The bytes a checkpoint message starts with: size, 'I', key length, key.
    static let messagePrefix: [UInt8] = {
        let size = 1 + keyText.count + valueLength
        return [UInt8(size & 0xFF), UInt8(size >> 8), UInt8(ascii: "I"), UInt8(keyText.count)] + keyText
    }()
    /// A checkpoint message's whole length.
    static let messageLength = messagePrefix.count + valueLength

    /// `H_0`.
    static var initialHash: [UInt8] { Array(SHA256.hash(data: domain)) }

    /// What a checkpoint says.
    struct Checkpoint: Equatable {
        var index: UInt32
        var time: UInt64
        var isFinal: Bool
        var hash: [UInt8]
        var signature: [UInt8]

        /// The value text.
        var value: String {
            var text = "SNUFFELCHAIN1 i="
            text += Self.fixedHex(UInt64(index), digits: 8)
            text += " t=" + Self.fixedHex(time, digits: 16)
            text += " f=" + (isFinal ? "1" : "0")
            text += " h=" + KeyText.hex(hash)
            text += " s=" + KeyText.hex(signature)
            return text
        }

        static func fixedHex(_ value: UInt64, digits: Int) -> String {
            var out = [UInt8](repeating: UInt8(ascii: "0"), count: digits)
            var v = value
            for i in stride(from: digits - 1, through: 0, by: -1) {
                out[i] = KeyText.digits[Int(v & 15)]
                v >>= 4
            }
            return String(decoding: out, as: UTF8.self)
        }

        /// Parses a whole checkpoint message (``messageLength`` bytes), or nil if any
        /// byte is not what the writer writes (upper-case digits included).
        init?(message: some Collection<UInt8>) {
            let bytes = Array(message)
            guard bytes.count == SignedLog.messageLength, bytes.starts(with: SignedLog.messagePrefix) else { return nil }
            var p = SignedLog.messagePrefix.count
            func literal(_ text: String) -> Bool {
                for c in text.utf8 {
                    guard bytes[p] == c else { return false }
                    p += 1
                }
                return true
            }
            func hexField(_ count: Int) -> [UInt8]? {
                var out: [UInt8] = []
                var i = 0
                while i < count {
                    guard let high = Self.lowerNibble(bytes[p + i]), let low = Self.lowerNibble(bytes[p + i + 1]) else { return nil }
                    out.append(high << 4 | low)
                    i += 2
                }
                p += count
                return out
            }
            guard literal("SNUFFELCHAIN1 i="), let i = hexField(8), literal(" t="), let t = hexField(16), literal(" f=") else { return nil }
            let flag = bytes[p]
            guard flag == UInt8(ascii: "0") || flag == UInt8(ascii: "1") else { return nil }
            p += 1
            guard literal(" h="), let h = hexField(64), literal(" s="), let s = hexField(128), p == bytes.count else { return nil }
            index = i.reduce(0) { $0 << 8 | UInt32($1) }
            time = t.reduce(0) { $0 << 8 | UInt64($1) }
            isFinal = flag == UInt8(ascii: "1")
            hash = h
            signature = s
        }

        init(index: UInt32, time: UInt64, isFinal: Bool, hash: [UInt8], signature: [UInt8]) {
            self.index = index
            self.time = time
            self.isFinal = isFinal
            self.hash = hash
            self.signature = signature
        }

        /// A lowercase hexadecimal digit's value (the writer writes no other).
        static func lowerNibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
    }

    /// Adds a checkpoint's fields to a hasher that has taken `H_{k-1}` and the block.
    static func finish(_ hasher: SHA256, index: UInt32, time: UInt64, isFinal: Bool) -> [UInt8] {
        var hasher = hasher
        var fields: [UInt8] = []
        withUnsafeBytes(of: index.littleEndian) { fields.append(contentsOf: $0) }
        withUnsafeBytes(of: time.littleEndian) { fields.append(contentsOf: $0) }
        fields.append(isFinal ? 1 : 0)
        hasher.update(data: fields)
        return Array(hasher.finalize())
    }

    /// The bytes a checkpoint's signature covers.
    static func signedMessage(_ hash: [UInt8]) -> [UInt8] { domain + hash }
}

/// Seals a ``ULogFileWriter``'s blocks with the signed hash chain of ``SignedLog``.
///
/// ```swift
/// let key = try DeviceKey(contentsOfFile: "/etc/snuffel/device.key")
/// let writer = try ULogFileWriter(path: path, startTime: t0, channelIDs: ids,
///                                 sealer: SignedLogSealer(key: key, deviceID: "drone-7"))
/// ```
public struct SignedLogSealer: ULogBlockSealer {
    /// The device's key.
    public let key: DeviceKey
    /// The device id recorded in the header.
    public let deviceID: String
    private var previousHash = SignedLog.initialHash
    private var index: UInt32 = 0

    /// Creates a sealer.
    /// - Parameters:
    ///   - key: The device's signing key.
    ///   - deviceID: The device id to record; by default the key's
    ///     ``DevicePublicKey/fingerprintID``.
    public init(key: DeviceKey, deviceID: String? = nil) {
        self.key = key
        self.deviceID = deviceID ?? key.publicKey.fingerprintID
    }

    /// The device id and public key.
    public var headerInfo: [(key: String, value: String)] {
        [(SignedLog.deviceIDKey, deviceID), (SignedLog.publicKeyKey, key.publicKey.hex)]
    }

    /// Extends the chain over the block and signs the new chain value.
    public mutating func seal(block: ArraySlice<UInt8>, time: UInt64, isFinal: Bool) -> (key: String, value: String) {
        index &+= 1
        var hasher = SHA256()
        hasher.update(data: previousHash)
        block.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        let hash = SignedLog.finish(hasher, index: index, time: time, isFinal: isFinal)
        previousHash = hash
        // Signing with a valid key does not fail in practice; should the library fail, an
        // all-zero signature is written, which no verifier accepts, rather than losing
        // the flight's data.
        let signature = (try? key.signature(for: SignedLog.signedMessage(hash))) ?? [UInt8](repeating: 0, count: 64)
        let checkpoint = SignedLog.Checkpoint(index: index, time: time, isFinal: isFinal, hash: hash, signature: signature)
        return (SignedLog.checkpointKey, checkpoint.value)
    }
}
