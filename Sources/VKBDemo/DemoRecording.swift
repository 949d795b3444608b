/// The shipped demo recording (`demo.evemu` beside this file, also reachable as
/// `examples/demo.evemu`), embedded in the binary by SwiftPM.
public enum DemoRecording {
    /// The recording's evemu text.
    public static var text: String { String(decoding: PackageResources.demo_evemu, as: UTF8.self) }
}
