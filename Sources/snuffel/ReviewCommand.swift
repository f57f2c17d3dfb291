import ArgumentParser
import Foundation
import SnuffelGround
import SnuffelReview

/// `snuffel review`: the local web app for judging a flight's detections.
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Review flights in the browser: map, signals, detections; mark each confirmed, rejected or unsure.",
        discussion: """
            Replays each flight log with the configuration recorded in it and serves a web app: \
            a map (the track coloured by signal, the detections, the sources with their 50 % and \
            95 % areas, the gas map; an offline grid, scale bar and north arrow, and with --tiles a \
            street or satellite map when online), a plot of the signals synchronised with it, and \
            the list of detections with filters. Mark each detection confirmed, rejected or unsure \
            with a note: marks go to LOG.review.sqlite beside the log, with an audit trail (who, \
            when, what changed), and `snuffel report` includes them. The log itself is only read. \
            The page also re-runs detection with other settings and shows what changed.

            It listens on 127.0.0.1 (this machine only) unless --listen says otherwise; then it \
            prints an address with an access token, without which nobody gets in. Stop it with \
            Ctrl-C.

            Examples:
              snuffel review flightlogs/mdma-lab.ulg
              snuffel review day1/*.ulg --port 9000 --reviewer "J. Jansen"
              snuffel review flight.ulg --listen 0.0.0.0
              snuffel review flight.ulg --tiles 'https://tile.example.org/{z}/{x}/{y}.png'
            """)

    @Argument(help: ArgumentHelp("The flight logs (.ulg) to review.", valueName: "log"))
    var logs: [String]

    @Option(help: "The port to listen on (0: any free port).")
    var port: Int = 8080

    @Option(help: ArgumentHelp("The address to listen on; anything but 127.0.0.1 requires the printed access token.", valueName: "address"))
    var listen: String = "127.0.0.1"

    @Option(help: ArgumentHelp("Your name, recorded with each mark (default: the login name).", valueName: "name"))
    var reviewer: String?

    @Option(help: ArgumentHelp("An XYZ tile URL with {z}, {x} and {y} for a map background when online.", valueName: "url"))
    var tiles: String?

    func validate() throws {
        guard !logs.isEmpty else { throw ValidationError("give at least one flight log, e.g. snuffel review flightlogs/mdma-lab.ulg") }
        for log in logs where !FileManager.default.fileExists(atPath: log) {
            throw ValidationError("no such file: \(log)")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        if let tiles {
            guard tiles.hasPrefix("https://") || tiles.hasPrefix("http://"), tiles.contains("{z}"), tiles.contains("{x}"), tiles.contains("{y}") else {
                throw ValidationError("--tiles: give an http(s) URL with {z}, {x} and {y}, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png")
            }
        }
    }

    func run() async throws {
        var flights: [ReviewedFlight] = []
        for log in logs {
            let progress = Progress(label: log)
            do {
                flights.append(try ReviewedFlight(
                    path: log, options: ReplayOptions(defaultConfigurationPath: Bundled.path("deploy/payload.example.toml")),
                    progress: { progress.update(fraction: $0) }))
            } catch {
                progress.done()
                throw Failure(error.description)
            }
            progress.done()
        }
        var settings = ReviewSettings(
            host: listen, port: port, reviewer: reviewer ?? ProcessInfo.processInfo.environment["USER"] ?? "reviewer", tileURL: tiles)
        if !settings.isLoopback { settings.token = ReviewSettings.makeToken() }
        let server = ReviewServer(flights: flights, settings: settings)
        let shown = settings.isLoopback ? listen : (listen == "0.0.0.0" || listen == "::" ? "THIS-MACHINE" : listen)
        let token = settings.token
        do {
            try await server.run(stopOnSignals: true) { port in
                var address = "http://\(shown.contains(":") ? "[\(shown)]" : shown):\(port)/"
                if let token { address += "?token=\(token)" }
                var text = "snuffel review: \(address)\n"
                if token != nil {
                    text += "(listening on \(listen): open this address, with its token, from the other machine; THIS-MACHINE is this machine's name or address)\n"
                }
                text += "Stop with Ctrl-C.\n"
                // Unbuffered: whoever started us (a test, a script) sees the address at once.
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        } catch {
            throw Failure("cannot serve on \(listen):\(port): \(error)")
        }
    }
}
