import ArgumentParser

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Not written yet.")

    func run() async throws {
        throw ValidationError("'demo' is not written yet")
    }
}
