// swift-tools-version:6.0
// libFuzzer targets (docs/testing.md, `make fuzz`), built with `-sanitize=fuzzer,address`:
// a package of its own, so the project's own build never needs libFuzzer. Each target's
// main hands over to libFuzzer's driver (FuzzSupport).
import PackageDescription

let fuzzTarget = { (name: String) -> Target in
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport", .product(name: "VKBFuzzable", package: "vkb-bridge")],
        swiftSettings: [.swiftLanguageMode(.v6)]
    )
}

let package = Package(
    name: "vkb-bridge-fuzz",
    dependencies: [.package(name: "vkb-bridge", path: "..")],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], swiftSettings: [.swiftLanguageMode(.v6)]),
    ] + ["FuzzConfig", "FuzzEvemu", "FuzzPacketStream", "FuzzInputStream", "FuzzHIDDescriptor", "FuzzReportStream"].map(fuzzTarget)
)
