import Testing
@testable import VKBDaemon
