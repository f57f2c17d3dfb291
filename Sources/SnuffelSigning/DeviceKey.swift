import Crypto

/// A key or key file that could not be used.
public struct DeviceKeyError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What was wrong, naming the file where there is one.
    public var description: String

    init(_ description: String) { self.description = description }
}

/// A device's Ed25519 signing key: the private half, kept on the drone.
///
/// A key file holds the 32-byte private key as 64 lowercase hexadecimal digits and a
/// newline, mode 0600; ``write(toFile:)`` refuses to overwrite a file. `snuffel keygen`
/// (and the daemon's `snuffeld keygen`) make them.
public struct DeviceKey: Sendable {
    let privateKey: Curve25519.Signing.PrivateKey

    /// Makes a new random key.
    public init() {
        privateKey = Curve25519.Signing.PrivateKey()
    }

    /// Reads a key from the 32 bytes of its raw representation.
    /// - Throws: ``DeviceKeyError`` if the bytes are not a key.
    public init(rawRepresentation bytes: [UInt8]) throws(DeviceKeyError) {
        guard bytes.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes) else {
            throw DeviceKeyError("a private key is 32 bytes; got \(bytes.count)")
        }
        privateKey = key
    }

    /// Reads a key file written by ``write(toFile:)``.
    /// - Parameter path: The key file's path.
    /// - Throws: ``DeviceKeyError`` naming the file and the reason.
    public init(contentsOfFile path: String) throws(DeviceKeyError) {
        let text = try readSmallTextFile(path, what: "key file")
        guard let bytes = KeyText.hexBytes(text), bytes.count == 32 else {
            throw DeviceKeyError("'\(path)' is not a Snuffel device key: expected 64 hexadecimal digits (made by `snuffel keygen`)")
        }
        try self.init(rawRepresentation: bytes)
    }

    /// The 32 bytes of the private key. Keep them secret.
    public var rawRepresentation: [UInt8] { Array(privateKey.rawRepresentation) }

    /// The public half, to give to whoever verifies the logs.
    public var publicKey: DevicePublicKey { DevicePublicKey(key: privateKey.publicKey) }

    /// Writes the key to a new file that only its owner may read (mode 0600).
    /// - Parameter path: The file to create; an existing file is not overwritten.
    /// - Throws: ``DeviceKeyError`` naming the file and the reason.
    public func write(toFile path: String) throws(DeviceKeyError) {
        let descriptor: FileDescriptor
        switch FileDescriptor.createPrivate(path) {
        case .success(let fd): descriptor = fd
        case .failure(let failure):
            throw DeviceKeyError("cannot create key file '\(path)': \(failure.message)"
                + (failure.code == EEXISTCode ? " (a key file is never overwritten; remove it or choose another path)" : ""))
        }
        let text = KeyText.hex(rawRepresentation) + "\n"
        if case .failure(let failure) = descriptor.writeAllAndSync(Array(text.utf8)) {
            throw DeviceKeyError("cannot write key file '\(path)': \(failure.message)")
        }
    }

    /// Signs bytes.
    /// - Returns: The 64-byte Ed25519 signature.
    /// - Throws: ``DeviceKeyError`` if the signing library fails.
    public func signature(for message: [UInt8]) throws(DeviceKeyError) -> [UInt8] {
        do {
            return Array(try privateKey.signature(for: message))
        } catch {
            throw DeviceKeyError("signing failed: \(error)")
        }
    }
}

/// A device's Ed25519 public key: what a verifier needs to check its logs.
///
/// Written as 64 lowercase hexadecimal digits; ``init(text:)`` also takes the standard
/// base64 of the 32 bytes.
public struct DevicePublicKey: Sendable, Equatable, CustomStringConvertible {
    let key: Curve25519.Signing.PublicKey

    init(key: Curve25519.Signing.PublicKey) { self.key = key }

    /// Reads a key from its 32 raw bytes.
    /// - Throws: ``DeviceKeyError`` if they are not a public key.
    public init(rawRepresentation bytes: [UInt8]) throws(DeviceKeyError) {
        guard bytes.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes) else {
            throw DeviceKeyError("a public key is 32 bytes; got \(bytes.count)")
        }
        self.key = key
    }

    /// Reads a key written as 64 hexadecimal digits or as base64 (surrounding white
    /// space is ignored).
    /// - Throws: ``DeviceKeyError`` if the text is neither.
    public init(text: String) throws(DeviceKeyError) {
        if let bytes = KeyText.hexBytes(text) ?? KeyText.base64Bytes(text), bytes.count == 32 {
            try self.init(rawRepresentation: bytes)
        } else {
            throw DeviceKeyError("a public key is 64 hexadecimal digits or the base64 of 32 bytes")
        }
    }

    /// Reads a public key given on a command line: the key itself (hex or base64), or the
    /// path of a file that holds it.
    /// - Throws: ``DeviceKeyError`` saying what was expected.
    public init(argument: String) throws(DeviceKeyError) {
        if let key = try? DevicePublicKey(text: argument) {
            self = key
            return
        }
        let text: String
        do {
            text = try readSmallTextFile(argument, what: "public key file")
        } catch {
            throw DeviceKeyError(
                "'\(argument)' is neither a public key (64 hexadecimal digits, or the base64 of 32 bytes) nor a file holding one: \(error.description)")
        }
        do {
            try self.init(text: text)
        } catch {
            throw DeviceKeyError("'\(argument)' holds no public key: \(error.description)")
        }
    }

    /// The 32 bytes of the key.
    public var rawRepresentation: [UInt8] { Array(key.rawRepresentation) }

    /// The key as 64 lowercase hexadecimal digits.
    public var hex: String { KeyText.hex(rawRepresentation) }

    /// The key's hexadecimal digits.
    public var description: String { hex }

    /// A short name derived from the key, `snuffel-` and the first 8 hexadecimal digits of
    /// its SHA-256: the device id when none is given.
    public var fingerprintID: String {
        "snuffel-" + String(KeyText.hex(Array(SHA256.hash(data: rawRepresentation))).prefix(8))
    }

    /// Whether `signature` is this key's Ed25519 signature of `message`.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        key.isValidSignature(signature, for: message)
    }

    /// Writes the key as hexadecimal digits and a newline to a file (created or emptied).
    /// - Throws: ``DeviceKeyError`` naming the file and the reason.
    public func write(toFile path: String) throws(DeviceKeyError) {
        let descriptor: FileDescriptor
        switch FileDescriptor.createPublic(path) {
        case .success(let fd): descriptor = fd
        case .failure(let failure): throw DeviceKeyError("cannot create '\(path)': \(failure.message)")
        }
        if case .failure(let failure) = descriptor.writeAllAndSync(Array((hex + "\n").utf8)) {
            throw DeviceKeyError("cannot write '\(path)': \(failure.message)")
        }
    }

    /// Whether two keys are the same 32 bytes.
    public static func == (a: DevicePublicKey, b: DevicePublicKey) -> Bool {
        a.rawRepresentation == b.rawRepresentation
    }
}

/// Reads a file of at most 4 KiB as UTF-8 text.
private func readSmallTextFile(_ path: String, what: String) throws(DeviceKeyError) -> String {
    let descriptor: FileDescriptor
    switch FileDescriptor.openForReading(path) {
    case .success(let fd): descriptor = fd
    case .failure(let failure): throw DeviceKeyError("cannot open \(what) '\(path)': \(failure.message)")
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let result = chunk.withUnsafeMutableBytes { descriptor.read(into: $0) }
        switch result {
        case .failure(let failure): throw DeviceKeyError("cannot read \(what) '\(path)': \(failure.message)")
        case .success(0): return String(decoding: bytes, as: UTF8.self)
        case .success(let n):
            bytes.append(contentsOf: chunk[..<n])
            if bytes.count > 4096 { throw DeviceKeyError("\(what) '\(path)' is too long to hold a key") }
        }
    }
}

/// Hexadecimal and base64 text of key bytes.
enum KeyText {
    static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hexadecimal digits.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The value of one hexadecimal digit (either case), or nil.
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The bytes of hexadecimal text (surrounding white space ignored), or nil.
    static func hexBytes(_ text: String) -> [UInt8]? {
        let chars = Array(trimmed(text).utf8)
        guard !chars.isEmpty, chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let high = nibble(chars[i]), let low = nibble(chars[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    /// The bytes of standard base64 text (with padding; surrounding white space
    /// ignored), or nil.
    static func base64Bytes(_ text: String) -> [UInt8]? {
        let chars = Array(trimmed(text).utf8)
        guard !chars.isEmpty, chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in chars {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: return nil
            }
            if padding > 0 { return nil }
            accumulator = accumulator << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return padding <= 2 ? out : nil
    }

    static func trimmed(_ text: String) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return text[first...last]
    }
}

extension DeviceKey {
    /// Makes a new key and writes it (mode 0600) and its public half (`path.pub`), as
    /// `snuffel keygen` and `snuffeld keygen` do; neither file may exist yet.
    /// - Returns: Lines telling the user where the keys are, the public key and the device id.
    /// - Throws: ``DeviceKeyError`` naming the file and the reason.
    public static func createFiles(at path: String) throws(DeviceKeyError) -> [String] {
        let key = DeviceKey()
        try key.write(toFile: path)
        try key.publicKey.write(toFile: path + ".pub")
        return [
            "private key: \(path) (mode 0600; keep it on the drone)",
            "public key:  \(path).pub (give it to whoever verifies the logs)",
            key.publicKey.hex,
            "device id (default): \(key.publicKey.fingerprintID)",
        ]
    }
}
