/// A file could not be opened.
public struct FileOpenError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The path as given.
    public var path: String
    /// The `errno` value of the failed `open`.
    public var code: Int32
    /// The system's message for `code`.
    public var message: String

    public var description: String { "cannot open '\(path)': \(message)" }
}

extension CSVSampleReader {
    /// Creates a reader of a CSV file, read in chunks as rows are taken.
    ///
    /// The file stays open until the reader and its copies are gone. Copies read
    /// independently (each keeps its own position). ``next()`` returns nil at the end of
    /// the file; a read error is thrown by ``next()`` as
    /// ``CSVError/Reason/readFailed(code:message:)``.
    ///
    /// - Parameters:
    ///   - channelIDs: The payload's channel ids, in channel-index order.
    ///   - path: The file's path.
    ///   - ignoreUnknownColumns: Whether to ignore unknown header columns.
    ///   - maximumLineLength: The most bytes a line may hold; at least 1.
    /// - Throws: ``FileOpenError`` if the file cannot be opened.
    public init(
        channelIDs: [String], contentsOfFile path: String, ignoreUnknownColumns: Bool = false,
        maximumLineLength: Int = CSVSampleReader.defaultMaximumLineLength
    ) throws(FileOpenError) {
        switch system_openForReading(path) {
        case .success(let descriptor):
            self.init(
                channelIDs: channelIDs, ignoreUnknownColumns: ignoreUnknownColumns,
                maximumLineLength: maximumLineLength)
            self.file = FileSource(descriptor: FileDescriptorOwner(descriptor))
        case .failure(let failure):
            throw FileOpenError(path: path, code: failure.code, message: failure.message)
        }
    }
}

/// Owns an open file descriptor and closes it when the last reader copy is gone.
final class FileDescriptorOwner: Sendable {
    let rawValue: Int32

    init(_ rawValue: Int32) { self.rawValue = rawValue }

    deinit { system_close(rawValue) }
}

/// A file read by offset, so that copies of a reader do not disturb each other.
struct FileSource: Sendable {
    /// Bytes read per refill.
    static let chunkSize = 256 * 1024

    let descriptor: FileDescriptorOwner
    /// The offset of the next byte to read.
    var offset: Int64 = 0

    /// Reads the next chunk at ``offset`` onto the end of `bytes` and moves the offset past it.
    ///
    /// - Returns: The number of bytes appended, 0 at the end of the file.
    mutating func read(appendingTo bytes: inout [UInt8]) -> Result<Int, SystemError> {
        let oldCount = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: Self.chunkSize))
        let result = bytes.withUnsafeMutableBytes { raw in
            system_pread(
                descriptor.rawValue, UnsafeMutableRawBufferPointer(rebasing: raw[oldCount...]), offset)
        }
        let count = (try? result.get()) ?? 0
        bytes.removeLast(Self.chunkSize - count)
        offset += Int64(count)
        return result
    }
}
