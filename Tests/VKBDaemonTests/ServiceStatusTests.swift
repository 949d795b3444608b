import Testing
import VKBCore
import VKBSender

@testable import VKBDaemon

@Suite struct ServiceStatusTests {
    @Test func showsConnectionEndpointBitmapAndDevices() {
        var state = ShiftState.clear
        state[.shift1] = true
        state[.subshift3] = true
        let status = ServiceStatus(
            connection: .connected(peer: "127.0.0.1:50995"), endpoint: "127.0.0.1:50995", state: state,
            devices: ["left", "right"])
        #expect(
            status.description
                == "connected to 127.0.0.1:50995; shift 0x01 subshift 0x04 (shift1+subshift3); devices: left, right")
    }

    @Test func namesTheResolvedPeerWhenItDiffers() {
        let status = ServiceStatus(connection: .connected(peer: "192.168.1.20:50995"), endpoint: "vkb-link.lan:50995")
        #expect(status.description.hasPrefix("connected to vkb-link.lan:50995 (192.168.1.20:50995); "))
    }

    @Test func saysWhyWhileRetryingWithNothingAttached() {
        #expect(
            ServiceStatus(connection: .reconnecting(reason: "connection refused"), endpoint: "192.168.1.20:50995")
                .description
                == "retrying 192.168.1.20:50995: connection refused; shift 0x00 subshift 0x00 (none); no devices")
        #expect(
            ServiceStatus(connection: .connecting(endpoint: "[::1]:50995"), endpoint: "[::1]:50995", state: ShiftState(bits: 0x1FF))
                .description
                == "connecting to [::1]:50995; shift 0x03 subshift 0x7f "
                + "(shift1+shift2+subshift1+subshift2+subshift3+subshift4+subshift5+subshift6+subshift7); no devices")
        #expect(
            ServiceStatus(connection: .disconnected(reason: "server closed the connection"), endpoint: "h:1").description
                .hasPrefix("disconnected from h:1: server closed the connection; "))
    }
}
