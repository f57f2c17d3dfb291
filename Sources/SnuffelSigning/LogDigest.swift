import Crypto

/// The SHA-256 of a whole file, the fingerprint a report gives for a flight log.
public enum LogDigest {
    /// Hashes a file, reading it in chunks.
    /// - Parameters:
    ///   - path: The file.
    ///   - chunkSize: The bytes read at a time.
    /// - Returns: The digest as 64 lowercase hexadecimal digits, and the file's size.
    /// - Throws: ``SignedLogReadError`` naming the file if it cannot be opened or read.
    public static func sha256(path: String, chunkSize: Int = 64 * 1024) throws(SignedLogReadError) -> (hex: String, byteCount: Int) {
        let descriptor: FileDescriptor
        switch FileDescriptor.openForReading(path) {
        case .success(let fd): descriptor = fd
        case .failure(let failure): throw SignedLogReadError(description: "cannot open '\(path)': \(failure.message)")
        }
        var hasher = SHA256()
        var count = 0
        var chunk = [UInt8](repeating: 0, count: max(1, chunkSize))
        while true {
            switch chunk.withUnsafeMutableBytes({ descriptor.read(into: $0) }) {
            case .failure(let failure): throw SignedLogReadError(description: "cannot read '\(path)': \(failure.message)")
            case .success(0): return (KeyText.hex(Array(hasher.finalize())), count)
            case .success(let n):
                chunk.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                count += n
            }
        }
    }
}
