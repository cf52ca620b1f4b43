// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Locality",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "LocalityCore", targets: ["LocalityCore"]),
        .executable(name: "locality", targets: ["locality"]),
        .executable(name: "locality-sync", targets: ["locality-sync"]),
        .executable(name: "locality-bench", targets: ["locality-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "LocalityCore",
            dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
            path: "Sources/LocalityCore"
        ),
        .executableTarget(
            name: "locality",
            dependencies: [
                "LocalityCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "cli"
        ),
        .executableTarget(
            name: "locality-sync",
            dependencies: [
                "LocalityCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "sync-server"
        ),
        .executableTarget(
            name: "locality-bench",
            dependencies: [
                "LocalityCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/locality-bench"
        ),
        .testTarget(
            name: "LocalityCoreTests",
            dependencies: ["LocalityCore"],
            path: "Tests/LocalityCoreTests"
        ),
        .testTarget(
            name: "LocalityCLITests",
            dependencies: ["locality", "LocalityCore"],
            path: "Tests/LocalityCLITests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
