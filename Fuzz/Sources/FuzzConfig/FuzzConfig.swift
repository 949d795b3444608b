import FuzzSupport
import VKBDaemon

/// The config loader on arbitrary bytes: the checks on the raw file, the preflight, the
/// TOML parser and the schema. Any crash is a bug: a reload must never kill the daemon.
@main enum FuzzConfig {
    static func main() {
        runFuzzer { data, size in
            _ = try? ConfigurationLoader.parse(try ConfigurationLoader.text(of: bytes(data, size), file: "fuzz.toml"), file: "fuzz.toml")
            return 0
        }
    }
}
