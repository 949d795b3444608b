import FuzzSupport
import VKBInput

/// The evemu recording parser on arbitrary bytes (`--replay` files).
@main enum FuzzEvemu {
    static func main() {
        runFuzzer { data, size in
            _ = try? EvemuRecording(parsing: bytes(data, size), path: "fuzz.evemu")
            return 0
        }
    }
}
