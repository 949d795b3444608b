import Foundation

/// The sanitizer the programs under test were built with (`scripts/sanitize.sh` sets
/// `VKB_SANITIZER`), for the few bounds a sanitizer's own cost makes meaningless.
enum Sanitizer {
    /// `thread`, `address`, or nil for a plain build.
    static let active: String? = {
        let name = ProcessInfo.processInfo.environment["VKB_SANITIZER"] ?? ""
        return name.isEmpty ? nil : name
    }()

    /// Whether resident memory reflects the program: shadow memory and ASan's quarantine
    /// of freed blocks grow it on their own.
    static var residentMemoryIsMeaningful: Bool { active == nil }
}

extension Duration {
    /// A time bound for the programs under test: as given for a plain build, five times
    /// as long under a sanitizer (instrumented code, and ASan's leak check at exit).
    var sanitizerScaled: Duration { Sanitizer.active == nil ? self : self * 5 }
}
