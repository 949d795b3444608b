// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "vkb-bridge",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vkb-bridge", targets: ["vkb-bridge"]),
        .executable(name: "vkb-telemetry-sink", targets: ["vkb-telemetry-sink"]),
        // For the fuzz targets in Fuzz/ (a package of its own: libFuzzer brings the main).
        .library(name: "VKBFuzzable", targets: ["VKBDaemon", "VKBInput", "VKBWire"]),
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
        .target(name: "CVKBSocket"),
        .target(name: "CSwiftExecutorHook"),

        // input → shift mapping → wire format → sender → daemon
        .target(
            name: "VKBInput",
            dependencies: [
                "CEvdev", "CUdev",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(name: "VKBShift", dependencies: ["VKBInput"], swiftSettings: strict),
        .target(name: "VKBWire", dependencies: ["VKBShift"], swiftSettings: strict),
        .target(
            name: "VKBSender",
            dependencies: [
                "VKBWire", "CVKBSocket",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "VKBDaemon",
            dependencies: [
                "VKBInput", "VKBShift", "VKBWire", "VKBSender", "CSystemd", "CSwiftExecutorHook",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "vkb-bridge",
            dependencies: [
                "VKBDaemon", "VKBSender", "VKBShift", "VKBInput", "VKBWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "vkb-telemetry-sink",
            dependencies: [
                "VKBWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // `make bench`: events per second through parse + map (not a product).
        .executableTarget(
            name: "ReplayThroughput",
            dependencies: ["VKBInput", "VKBShift"],
            path: "Benchmarks/ReplayThroughput",
            swiftSettings: strict
        ),

        .testTarget(
            name: "VKBInputTests",
            dependencies: ["VKBInput", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(name: "VKBShiftTests", dependencies: ["VKBShift"], swiftSettings: strict),
        .testTarget(name: "VKBWireTests", dependencies: ["VKBWire"], swiftSettings: strict),
        .testTarget(
            name: "VKBSenderTests",
            dependencies: ["VKBSender", .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: strict
        ),
        .target(name: "VKBTestSupport", path: "Tests/VKBTestSupport", swiftSettings: strict),
        .testTarget(name: "VKBDaemonTests", dependencies: ["VKBDaemon", "VKBTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "VKBWire", "VKBShift", "VKBInput", "VKBTestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
    ]
)
