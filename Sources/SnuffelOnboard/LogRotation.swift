import Foundation
import SnuffelWire

/// Keeps a drone's log directory within bounds before a new flight log is opened: at most
/// a number of flight logs, and — when the disk is below the free-space floor — the oldest
/// logs removed until it is not (the newest is always kept). Only files the daemon names
/// (`snuffel-*.ulg`) are ever removed; logs are evidence, so rotation is off unless asked for.
public enum LogRotation {
    /// Removes old flight logs.
    /// - Parameters:
    ///   - directory: The log directory.
    ///   - keep: At most this many logs stay, the new one included (so `keep - 1` old ones).
    ///   - minimumFreeBytes: Below this free space, old logs go (the newest excepted).
    /// - Returns: The paths removed, oldest first, and problems met.
    public static func rotate(directory: String, keep: Int, minimumFreeBytes: UInt64) -> (removed: [String], problems: [String]) {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("snuffel-") && $0.hasSuffix(".ulg") }
            .sorted()  // names carry the flight's UTC start: oldest first
        var logs = names.map { (directory as NSString).appendingPathComponent($0) }
        var removed: [String] = [], problems: [String] = []
        func remove() -> Bool {
            guard let oldest = logs.first else { return false }
            do {
                try fm.removeItem(atPath: oldest)
                removed.append(oldest)
            } catch {
                problems.append("cannot remove \(oldest): \(error.localizedDescription)")
            }
            logs.removeFirst()
            return true
        }
        while logs.count > max(0, keep - 1) { if !remove() { break } }
        while logs.count > 1, case .success(let free) = FileSystemSpace.free(at: directory), free < minimumFreeBytes {
            if !remove() { break }
        }
        return (removed, problems)
    }
}
