/// Placeholder; the streaming pipeline is being written.
public final class Pipeline {
    public let configuration: PipelineConfiguration
    public init(configuration: PipelineConfiguration) { self.configuration = configuration }
}
