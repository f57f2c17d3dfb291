import ArgumentParser

@main
struct Snuffel: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Snuffel ground tool.")
    func run() throws { print("snuffel") }
}
