// TEMPORARY STUB (core worktree only): replaced by the real port.
public struct GasIndexAlgorithm: Sendable {
    public enum Kind: Sendable { case voc, nox }
    public init(kind: Kind, samplingInterval: Float = 1) {}
    public mutating func process(sraw: Int32) -> Int32 { 0 }
}
