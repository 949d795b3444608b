import ArgumentParser

struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Not written yet.")

    func run() async throws {
        throw ValidationError("'check-config' is not written yet")
    }
}
