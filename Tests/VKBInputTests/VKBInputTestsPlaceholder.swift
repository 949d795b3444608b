import Testing
@testable import VKBInput
