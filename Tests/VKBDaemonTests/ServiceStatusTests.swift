import Testing
import VKBShift

@testable import VKBDaemon

@Suite struct ServiceStatusTests {
    @Test func showsConnectionEndpointBitmapAndDevices() {
        var state = ShiftState.clear
        state[.shift1] = true
        state[.subshift3] = true
        let status = ServiceStatus(
            connection: .connected, endpoint: "127.0.0.1:50995", state: state, devices: ["left", "right"])
        #expect(
            status.description
                == "connected to 127.0.0.1:50995; shift 0x01 subshift 0x04 (shift1+subshift3); devices: left, right")
    }

    @Test func saysWhenWaitingWithNothingAttached() {
        #expect(
            ServiceStatus(connection: .retrying, endpoint: "192.168.1.20:50995").description
                == "retrying 192.168.1.20:50995; shift 0x00 subshift 0x00 (none); no devices")
        #expect(
            ServiceStatus(connection: .connecting, endpoint: "[::1]:50995", state: ShiftState(bits: 0x1FF)).description
                == "connecting to [::1]:50995; shift 0x03 subshift 0x7f "
                + "(shift1+shift2+subshift1+subshift2+subshift3+subshift4+subshift5+subshift6+subshift7); no devices")
    }
}
