import Testing
@testable import VKBWire
