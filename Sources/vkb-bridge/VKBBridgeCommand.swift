import ArgumentParser
import VKBWire

/// `vkb-bridge`: the daemon and its tools.
struct VKBBridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vkb-bridge",
        abstract: "Turns VKB joystick buttons into VKB-Link shift/subshift states, delivered over TCP.",
        version: VKBBridgeVersion.string,
        subcommands: [
            RunCommand.self,
            CheckConfigCommand.self,
            DemoCommand.self,
            DevicesCommand.self,
            MonitorCommand.self,
            ProbeCommand.self,
        ]
    )
}
