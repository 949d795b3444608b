import Foundation

/// Who a child process of the tests runs as.
///
/// The daemon runs unprivileged (systemd's `DynamicUser`, or the pilot's own user
/// service), so the tests run `vkb-bridge` and `vkb-telemetry-sink` the same way: when
/// the test runner is root, children start through `setpriv` as `nobody`/`nogroup` with
/// no capabilities, plus the supplementary groups udev would give the service (`input`).
/// A feature that works only as root then fails here. A runner that is not root is
/// already unprivileged and starts children as itself.
enum ServiceUser: Sendable, Equatable {
    /// `nobody`/`nogroup` (when the runner is root), with these extra groups.
    case unprivileged(groups: [String] = [])
    /// The test runner itself: only for what truly needs root (network namespaces),
    /// and said so at the call site.
    case testRunner

    /// The user the daemon runs as, reading input nodes through group `input`.
    static let daemon = ServiceUser.unprivileged(groups: ["input"])

    /// `setpriv` and its arguments to put before a command, or nothing when no switch is
    /// needed (or possible: only root can change its user).
    var commandPrefix: [String] {
        guard case .unprivileged(let groups) = self, geteuid() == 0 else { return [] }
        let groupIDs = groups.compactMap { getgrnam($0)?.pointee.gr_gid }.map(String.init)
        return [
            Self.setpriv, "--reuid=\(Self.nobody.uid)", "--regid=\(Self.nobody.gid)",
            groupIDs.isEmpty ? "--clear-groups" : "--groups=\(groupIDs.joined(separator: ","))",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
        ]
    }

    /// Makes `path` belong to the user children run as (when the runner is root), for a
    /// file the program is to write, as it would own it in real use.
    func giveOwnership(of path: String) throws {
        guard case .unprivileged = self, geteuid() == 0 else { return }
        guard chown(path, Self.nobody.uid, Self.nobody.gid) == 0 else {
            throw HarnessError("chown \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The uid and gid children run as when the runner is root.
    static let nobody: (uid: uid_t, gid: gid_t) = {
        let uid = getpwnam("nobody")?.pointee.pw_uid ?? 65534
        let gid = getgrnam("nogroup")?.pointee.gr_gid ?? 65534
        return (uid, gid)
    }()

    static let setpriv = "/usr/bin/setpriv"
}
