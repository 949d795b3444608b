import Testing
@testable import VKBShift
