import Glibc

/// Open file descriptors of this process (entries of /proc/self/fd, minus the one
/// used to list them), or nil when /proc is not there.
public func openFileDescriptorCount() -> Int? {
    guard let dir = opendir("/proc/self/fd") else { return nil }
    defer { closedir(dir) }
    var count = 0
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { count += 1 }
    }
    return count - 1
}
