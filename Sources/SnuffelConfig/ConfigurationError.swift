/// A configuration file that was refused: which file, which key, and why.
///
/// The description reads `FILE: KEY: REASON`, or `FILE:LINE:COLUMN: KEY: REASON` when the
/// position is known (TOML syntax errors), for example
///
/// ```
/// deploy/payload.toml: channels.nh3.kind: unknown channel kind 'electro'; expected one of sraw_voc, ...
/// ```
///
/// Keys are full dotted paths from the top of the file. A channel, compound or class is
/// named by its id once the id is known (`channels.pid.calibration.gain`) and by its
/// zero-based position before that (`channels[3].kind`).
public struct ConfigurationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file the offending value is in, as given or as resolved from a reference.
    public var file: String
    /// The full key path of the offending value; empty when the whole file is at fault
    /// (unreadable, not UTF-8, a syntax error whose key could not be located).
    public var key: String
    /// What is wrong and, where it helps, what is expected.
    public var reason: String
    /// One-based line and column, when known.
    public var line: Int?
    public var column: Int?

    public init(file: String, key: String, reason: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.key = key
        self.reason = reason
        self.line = line
        self.column = column
    }

    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !key.isEmpty { text += key + ": " }
        return text + reason
    }
}
