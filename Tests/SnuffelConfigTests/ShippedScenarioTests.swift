import Foundation
import SnuffelConfig
import SnuffelCore
import SnuffelSim
import Testing

/// Every shipped scenario simulated once with the example payload and the shipped library.
enum ShippedScenarios {
    struct Run: Sendable {
        let file: String
        let scenario: Scenario
        let flight: SimulatedFlight
        let duration: Double
    }

    static let directory = repositoryRoot + "/scenarios"

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".toml") }.sorted()
    }()

    /// Loading or simulating errors are kept, to be reported by the test that reads them.
    static let runs: [Result<Run, ConfigurationError>] = {
        guard let payload = try? PayloadConfiguration.load(path: examplePayloadPath) else { return [] }
        let channels = payload.pipeline.channels, library = payload.pipeline.library
        return files.map { file in
            let path = directory + "/" + file
            do throws(ConfigurationError) {
                let scenario = try Scenario.load(path: path)
                do throws(SimulationError) {
                    let simulator = try FlightSimulator(scenario: scenario, channels: channels, library: library)
                    return .success(Run(file: file, scenario: scenario, flight: simulator.run(), duration: simulator.duration))
                } catch {
                    return .failure(ConfigurationError(file: path, key: error.key, reason: error.reason))
                }
            } catch {
                return .failure(error)
            }
        }
    }()
}

@Suite("Shipped scenarios")
struct ShippedScenarioTests {
    @Test("there are at least 22, the three sample flights among them, and every one loads and simulates")
    func allLoadAndSimulate() throws {
        let files = ShippedScenarios.files
        #expect(files.count >= 22)
        for name in ["waste-dump-manure.toml", "confounders-only.toml", "mdma-lab.toml"] {
            #expect(files.contains(name), "\(name) is missing")
        }
        try #require(ShippedScenarios.runs.count == files.count, "the example payload did not load")
        for result in ShippedScenarios.runs {
            switch result {
            case .success(let run):
                #expect(run.scenario.name + ".toml" == run.file, "a scenario's name is its file's name")
                #expect(run.duration >= 300 && run.duration <= 720, "\(run.file) flies \(run.duration) s, not 5–12 minutes")
                #expect(!run.flight.samples.isEmpty && !run.flight.poses.isEmpty)
            case .failure(let error):
                Issue.record("\(error)")
            }
        }
    }

    @Test("encountered sources peak between about 0.1 and 10 ppm, and most sources are encountered")
    func encounterStrengths() {
        var sources = 0, encountered = 0
        var peaks: [Double] = []
        for case .success(let run) in ShippedScenarios.runs {
            var line = "\(run.scenario.name) (\(Int(run.duration)) s):"
            for source in run.scenario.sources {
                sources += 1
                let mine = run.flight.truth.encounters.filter { $0.sourceID == source.id }
                let peak = mine.map(\.peakPPM).max() ?? 0
                if !mine.isEmpty {
                    encountered += 1
                    peaks.append(peak)
                }
                line += " \(source.id) \(mine.count)× peak \((peak * 100).rounded() / 100) ppm;"
                if !mine.isEmpty {
                    #expect(peak > 0.05 && peak < 20, "\(run.scenario.name): \(source.id) peaks at \(peak) ppm")
                }
            }
            print(line)
        }
        print("encountered \(encountered) of \(sources) sources; peaks from \(peaks.min() ?? 0) to \(peaks.max() ?? 0) ppm")
        #expect(Double(encountered) >= 0.85 * Double(sources))
        #expect((peaks.min() ?? 0) < 0.3 && (peaks.max() ?? 0) > 3, "the peaks should span about 0.1–10 ppm")
    }
}
