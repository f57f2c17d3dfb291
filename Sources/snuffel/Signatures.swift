import ArgumentParser
import SnuffelConfig
import SnuffelCore

/// `snuffel signatures`: shows the signature library in force.
struct Signatures: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the chemical signature library: compounds, responses and classes.",
        discussion: """
            Lists each class with its compounds and nominal fractions, and each compound's response \
            per ppm on every kind of channel, with where the number comes from. Numbers marked \
            "illustrative" are estimates to be replaced by lab calibration.
            """)

    @OptionGroup var payload: PayloadOptions

    @Flag(help: "Also print the source of every response figure.")
    var sources = false

    func run() throws {
        let config = try payload.load()
        let library = config.pipeline.library
        print("signature library: \(config.signaturesFile.path)")
        print("")
        print("classes:")
        for k in library.classes {
            let parts = k.components.map { "\($0.compound) \(Int(($0.fraction * 100).rounded()))%" }.joined(separator: ", ")
            print("  \(pad(k.id, 22)) \(k.isConfounder ? "confounder" : "ALERTS    ")  \(parts)")
        }
        print("")
        let keys = Array(Set(library.compounds.flatMap { $0.responses.keys })).sorted()
        print("responses per ppm (" + keys.joined(separator: ", ") + "):")
        for c in library.compounds {
            let values = keys.map { key -> String in
                guard let r = c.responses[key] else { return "-" }
                return "\(key)=\(r.perPPM)"
            }
            print("  \(pad(c.id, 14)) " + values.filter { $0 != "-" }.joined(separator: "  "))
            if sources {
                for key in keys { if let r = c.responses[key] { print("      \(key): \(r.source)") } }
            }
        }
    }
}

/// `snuffel check-config`: loads a payload configuration and reports what it holds.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a payload configuration and show the channels it declares.",
        discussion: """
            Loads the configuration exactly as the daemon and the ground tool do and either lists \
            its channels and detection settings or says which file, key and value is wrong, and why.
            """)

    @Argument(help: ArgumentHelp("Payload configuration (TOML).", valueName: "file"))
    var file: String = Bundled.path("deploy/payload.example.toml")

    func run() throws {
        let config: PayloadConfiguration
        do {
            config = try PayloadConfiguration.load(path: file)
        } catch {
            throw Failure("\(error)")
        }
        print("\(file): OK — payload \(config.payload.name)")
        for (i, c) in config.pipeline.channels.enumerated() {
            var line = "  [\(i)] \(pad(c.id, 8)) \(pad(c.kind.rawValue + (c.gas.map { " (\($0))" } ?? ""), 24))"
            line += " \(c.rateHz) Hz, delay \(c.delaySeconds) s"
            if c.riseTauSeconds > 0 { line += ", τ rise \(c.riseTauSeconds) s / decay \(c.decayTauSeconds) s" }
            print(line)
        }
        let lib = config.pipeline.library
        print("  signatures: \(lib.compounds.count) compounds, \(lib.classes.count) classes (\(config.signaturesFile.path))")
        _ = try Pipeline(configuration: config.pipeline)
        print("  pipeline builds: yes")
    }
}
