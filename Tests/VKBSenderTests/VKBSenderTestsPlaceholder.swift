import Testing
@testable import VKBSender
