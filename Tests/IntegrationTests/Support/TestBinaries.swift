import Foundation

/// Finds the executables `swift build` made, next to the running test bundle
/// (`.build/<triple>/debug/`), or in `$VKB_BIN_DIR` when set.
///
/// `swift build --build-tests` builds them; `swift test --skip-build` does not, so a
/// missing binary fails the test with a message saying to build first.
enum TestBinaries {
    /// `vkb-bridge`.
    static var bridge: String {
        get throws { try path(of: "vkb-bridge") }
    }

    /// `vkb-telemetry-sink`.
    static var sink: String {
        get throws { try path(of: "vkb-telemetry-sink") }
    }

    /// The directory searched: `$VKB_BIN_DIR`, else the test bundle's directory.
    static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["VKB_BIN_DIR"], !dir.isEmpty { return dir }
        // The test bundle is an executable on Linux; /proc/self/exe resolves symlinks
        // such as .build/debug → .build/<triple>/debug.
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    /// Absolute path of the built executable `name`.
    /// - Throws: `HarnessError` naming the path when it is missing or not executable.
    static func path(of name: String) throws -> String {
        let path = (directory as NSString).appendingPathComponent(name)
        guard access(path, X_OK) == 0 else {
            throw HarnessError(
                "\(name) not found at \(path): run `swift build` (or `swift build --build-tests`) first, "
                    + "or set VKB_BIN_DIR to the directory holding it"
            )
        }
        return path
    }
}
