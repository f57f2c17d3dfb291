import TOMLKit

/// The payload's evidence sampler, from a `[sampler]` table: sorbent tubes or canisters,
/// each behind a valve or pump switched by a GPIO line.
///
/// ```toml
/// [sampler]
/// chip = "/dev/gpiochip0"     # the GPIO chip
/// lines = [17, 27, 22, 23]    # one line per tube, tube 1 first
/// active_low = false          # true when a low level opens the valve or runs the pump
/// duration_s = 60             # how long air is drawn through a tube
/// confidence = 0.8            # a lab or dump detection at least this sure runs the next tube
/// ```
public struct SamplerSettings: Sendable, Equatable {
    /// The GPIO chip, e.g. `/dev/gpiochip0`.
    public var chip: String
    /// The line offsets on the chip, tube 1 first.
    public var lines: [Int]
    /// Whether a low level switches a tube on.
    public var activeLow: Bool
    /// How long a tube runs, µs.
    public var duration: UInt64
    /// The threat confidence (that the source is a lab or dump) at which a detection runs
    /// the next tube; nil: only the operator starts tubes.
    public var confidence: Double?

    public init(chip: String, lines: [Int], activeLow: Bool = false, duration: UInt64 = 60_000_000, confidence: Double? = 0.8) {
        self.chip = chip
        self.lines = lines
        self.activeLow = activeLow
        self.duration = duration
        self.confidence = confidence
    }

    static let keys = ["chip", "lines", "active_low", "duration_s", "confidence"]

    /// The most tubes a sampler may have (the tube number is one byte in the log).
    public static let maximumTubes = 64

    static func read(_ root: TableReader) throws(ConfigurationError) -> SamplerSettings? {
        guard let table = try root.table("sampler", allowed: keys) else { return nil }
        let chip = try table.requiredString("chip", "the GPIO chip of the valves or pumps, e.g. \"/dev/gpiochip0\"")
        if chip.allSatisfy(\.isWhitespace) { throw table.error("chip", "must not be empty") }
        guard let value = table.value("lines") else {
            throw table.missing("lines", "the GPIO line of each tube, tube 1 first, e.g. [17, 27, 22, 23]")
        }
        guard let array = value.array else { throw table.mismatch("lines", expected: "an array of line numbers", got: value) }
        var lines: [Int] = []
        for index in 0..<array.count {
            guard let line = array[index].int, (0...1023).contains(line) else {
                throw table.error("lines", "line \(index + 1) must be a GPIO line number, 0 to 1023; got \(TableReader.describe(array[index]))")
            }
            if lines.contains(line) { throw table.error("lines", "line \(line) is named twice: each tube has its own line") }
            lines.append(line)
        }
        guard !lines.isEmpty, lines.count <= maximumTubes else {
            throw table.error("lines", "a sampler has 1 to \(maximumTubes) tubes; got \(lines.count)")
        }
        let seconds = try table.double("duration_s") ?? 60
        guard seconds > 0, seconds <= 3600 else { throw table.error("duration_s", "must be more than 0 and at most 3600 s; got \(seconds)") }
        let confidence = try table.double("confidence")
        if let confidence, !(0...1).contains(confidence) {
            throw table.error("confidence", "must be 0 to 1 (leave it out for operator-started tubes only); got \(confidence)")
        }
        return SamplerSettings(
            chip: chip, lines: lines, activeLow: try table.bool("active_low") ?? false, duration: UInt64(seconds * 1e6),
            confidence: confidence)
    }
}
