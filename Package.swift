// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

// A Linux daemon: evdev, udev, epoll and systemd are Linux interfaces, and nothing here
// builds elsewhere. SwiftPM has no `platforms` entry for Linux, hence no entry at all.
let package = Package(
    name: "vkb-bridge",
    products: [
        .executable(name: "vkb-bridge", targets: ["vkb-bridge"]),
        .executable(name: "vkb-telemetry-sink", targets: ["vkb-telemetry-sink"]),
        // For the fuzz targets in Fuzz/ (a package of its own: libFuzzer brings the main).
        .library(name: "VKBFuzzable", targets: ["VKBCore", "VKBDaemon", "VKBInput", "VKBLoop", "VKBWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C libraries from Debian packages.
        .systemLibrary(name: "CEvdev", pkgConfig: "libevdev", providers: [.apt(["libevdev-dev"])]),
        .systemLibrary(name: "CUdev", pkgConfig: "libudev", providers: [.apt(["libudev-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // Headers only: epoll, timerfd, signalfd, eventfd, SIOCOUTQ (not in Swift's Glibc).
        .systemLibrary(name: "CLinux"),

        // input → shift mapping → wire format → sender → daemon, on a shared vocabulary
        // (VKBCore: events, key sets, buttons, shift states) that depends on nothing.
        .target(name: "VKBCore", swiftSettings: strict),
        // The event loop every descriptor of the daemon is registered with.
        .target(
            name: "VKBLoop",
            dependencies: ["VKBCore", "CLinux", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: strict
        ),
        .target(
            name: "VKBInput",
            dependencies: [
                "VKBCore", "VKBLoop", "CEvdev", "CUdev",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The mapper and the wire codec are pure: no C library, no I/O.
        .target(name: "VKBShift", dependencies: ["VKBCore"], swiftSettings: strict),
        .target(name: "VKBWire", dependencies: ["VKBCore"], swiftSettings: strict),
        .target(name: "VKBSocket", dependencies: ["VKBCore", "VKBLoop", "CLinux"], swiftSettings: strict),
        .target(name: "VKBSender", dependencies: ["VKBCore", "VKBWire", "VKBLoop", "VKBSocket"], swiftSettings: strict),
        .target(name: "VKBProbe", dependencies: ["VKBCore", "VKBWire", "VKBLoop", "VKBSocket", "VKBSender", "CLinux"], swiftSettings: strict),
        .target(
            name: "VKBDaemon",
            dependencies: [
                "VKBCore", "VKBInput", "VKBLoop", "VKBShift", "VKBWire", "VKBSender", "CSystemd",
                .product(name: "TOMLKit", package: "TOMLKit"),
                // Locks only (pthread mutexes, which ThreadSanitizer sees); no event loops.
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        // `vkb-bridge demo`: the recording is a resource compiled into the binary.
        .target(
            name: "VKBDemo",
            dependencies: [
                "VKBCore", "VKBDaemon", "VKBInput", "VKBSender",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            resources: [.embedInCode("demo.evemu")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "vkb-bridge",
            dependencies: [
                "VKBCore", "VKBDaemon", "VKBDemo", "VKBProbe", "VKBSender", "VKBShift", "VKBInput", "VKBWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "vkb-telemetry-sink",
            dependencies: [
                // No VKBInput: the sink links neither libevdev nor libudev (SinkTests checks).
                "VKBCore", "VKBWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),

        // `make bench`: events per second through parse + map (not a product).
        .executableTarget(
            name: "ReplayThroughput",
            dependencies: ["VKBCore", "VKBInput", "VKBLoop", "VKBShift"],
            path: "Benchmarks/ReplayThroughput",
            swiftSettings: strict
        ),

        .testTarget(name: "VKBCoreTests", dependencies: ["VKBCore"], swiftSettings: strict),
        .testTarget(
            name: "VKBLoopTests",
            dependencies: ["VKBCore", "VKBLoop", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VKBInputTests",
            dependencies: ["VKBCore", "VKBInput", "VKBLoop", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(name: "VKBShiftTests", dependencies: ["VKBCore", "VKBShift"], swiftSettings: strict),
        .testTarget(name: "VKBWireTests", dependencies: ["VKBCore", "VKBWire"], swiftSettings: strict),
        .testTarget(name: "VKBSocketTests", dependencies: ["VKBCore", "VKBLoop", "VKBSocket", "VKBTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "VKBSenderTests",
            dependencies: [
                "VKBCore", "VKBLoop", "VKBSender", "VKBSocket", "VKBTestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VKBProbeTests", dependencies: ["VKBCore", "VKBProbe", "VKBSender", "VKBTestSupport", "VKBWire"], swiftSettings: strict
        ),
        .target(name: "VKBTestSupport", path: "Tests/VKBTestSupport", swiftSettings: strict),
        .testTarget(
            name: "VKBDaemonTests",
            dependencies: [
                "VKBCore", "VKBDaemon", "VKBDemo", "VKBInput", "VKBLoop", "VKBSender", "VKBShift", "VKBTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "VKBDemoTests",
            dependencies: ["VKBCore", "VKBDemo", "VKBInput", "VKBLoop"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "VKBCore", "VKBWire", "VKBShift", "VKBInput", "VKBTestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
