/// A harness failure with a message that says what was awaited and what was seen instead
/// (recent output, exit status), so a failing test explains itself.
struct HarnessError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
