import ArgumentParser

struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "devices", abstract: "Not written yet.")

    func run() async throws {
        throw ValidationError("'devices' is not written yet")
    }
}
