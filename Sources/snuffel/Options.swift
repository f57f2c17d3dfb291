import ArgumentParser
import Foundation
import SnuffelConfig

/// Where the payload configuration comes from; shared by every command that needs it.
struct PayloadOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp(
        "Payload configuration (TOML): channels, calibration, detection settings and the signature library it names.",
        valueName: "file"))
    var config: String = Bundled.path("deploy/payload.example.toml")

    func load() throws -> PayloadConfiguration {
        try Self.load(path: config)
    }

    /// Loads a payload configuration, turning a refusal into a ``Failure`` that names it.
    static func load(path: String) throws -> PayloadConfiguration {
        do {
            return try PayloadConfiguration.load(path: path)
        } catch {
            throw Failure("the payload configuration was refused:\n  \(error)")
        }
    }
}

/// Files that ship with Snuffel (sample flight, example payload), found relative to the
/// current directory or, failing that, to the executable's checkout.
enum Bundled {
    static func path(_ relative: String) -> String {
        let fm = FileManager.default
        if fm.fileExists(atPath: relative) { return relative }
        // .build/<config>/snuffel → the package root three levels up.
        var url = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        for _ in 0..<4 {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent(relative).path
            if fm.fileExists(atPath: candidate) { return candidate }
        }
        return relative
    }
}

/// A failure while running a command (a file that cannot be read, input that is refused):
/// printed as `Error: ...` without the usage text, which is for mistakes in the arguments.
struct Failure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
