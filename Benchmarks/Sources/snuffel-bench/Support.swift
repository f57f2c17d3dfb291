import Foundation
import SnuffelCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic time in nanoseconds (`clock_gettime(CLOCK_MONOTONIC)`; a vDSO call on Linux).
@inline(__always)
func nanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Keeps a value alive so that the optimiser cannot drop the work that made it.
@inline(never)
func keep<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

extension Array where Element == Double {
    /// The median (mean of the two middle values for an even count).
    var median: Double {
        guard !isEmpty else { return .nan }
        let s = sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// A percentile of sorted values, nearest rank.
func percentile(_ sorted: [UInt64], _ p: Double) -> UInt64 {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
    return sorted[max(0, min(sorted.count - 1, rank))]
}

/// Appends `key value` lines to the results file the summary reads.
struct ResultsFile {
    let path: String

    func record(_ key: String, _ value: Double) {
        record(key, value.isFinite ? String(value) : "nan")
    }

    func record(_ key: String, _ value: String) {
        let line = "\(key) \(value)\n"
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            handle.closeFile()
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: Data(line.utf8))
        }
    }
}

/// The stream files shared with the reference: little-endian float64 triples
/// `(channel index, time µs, raw value)`, one per sample in stream order.
enum StreamFile {
    static func write(_ samples: [Sample], to path: String) throws {
        var values: [Double] = []
        values.reserveCapacity(samples.count * 3)
        for s in samples {
            values.append(Double(s.channel))
            values.append(Double(s.time))  // < 2^53 µs: exact
            values.append(s.value)
        }
        try writeArray(values, to: path)
    }

    static func read(_ path: String) throws -> [Sample] {
        let values: [Double] = try readArray(path)
        var out: [Sample] = []
        out.reserveCapacity(values.count / 3)
        var i = 0
        while i + 2 < values.count {
            out.append(Sample(channel: UInt16(values[i]), time: UInt64(values[i + 1]), value: values[i + 2]))
            i += 3
        }
        return out
    }
}

/// Writes the bytes of an array of plain numbers (little-endian on every host we run).
func writeArray<T>(_ values: [T], to path: String) throws {
    let data = values.withUnsafeBytes { Data($0) }
    try data.write(to: URL(fileURLWithPath: path))
}

func readArray<T>(_ path: String) throws -> [T] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let count = data.count / MemoryLayout<T>.stride
    return [T](unsafeUninitializedCapacity: count) { buffer, initialised in
        _ = data.withUnsafeBytes { raw in
            memcpy(buffer.baseAddress!, raw.baseAddress!, count * MemoryLayout<T>.stride)
        }
        initialised = count
    }
}

/// A number with a fixed count of decimals, for tables.
func fixed(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "n/a" }
    return String(format: "%.\(decimals)f", value)
}

func padded(_ s: String, _ width: Int, left: Bool = false) -> String {
    let pad = String(repeating: " ", count: max(0, width - s.count))
    return left ? s + pad : pad + s
}
