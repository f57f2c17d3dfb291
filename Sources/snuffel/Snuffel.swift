import ArgumentParser

/// The ground tool: replays recorded sensor data through the detection pipeline and
/// explains what it found.
@main
struct Snuffel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snuffel",
        abstract: "Find drug-lab and drug-waste signatures in gas-sensor data from sniffer drones.",
        discussion: """
            Snuffel runs the same detection pipeline as the drone's onboard daemon: it converts raw \
            sensor readings to physical units, compensates temperature and humidity, tracks each \
            channel's baseline, finds plume hits, fuses them into events and classifies each event \
            against the chemical signature library (MDMA or amphetamine synthesis, drug waste, and \
            the confounders manure, exhaust, solvent and smoke). Investigators replay, export, \
            report and review flights; engineers calibrate and probe the payload.

            Start with:  snuffel replay            (replays the bundled sample flight)
            """,
        version: "0.1.0",
        subcommands: [ReplayCommand.self, ExportCommand.self, SimulateCommand.self, EvaluateCommand.self, Signatures.self, CheckConfig.self, BridgeTool.self, ProbeCommand.self, KeygenCommand.self, VerifyCommand.self, CalibrateCommand.self, ReportCommand.self, ReviewCommand.self],
        defaultSubcommand: nil
    )
}
