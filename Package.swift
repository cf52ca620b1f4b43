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
        .executable(name: "locality-fuzz", targets: ["locality-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(
            name: "LocalityCore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "BigInt", package: "BigInt"),
            ],
            path: "Sources/LocalityCore"
        ),
        .target(
            name: "LocalityHTTPClient",
            dependencies: [
                "LocalityCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "cli/Client"
        ),
        .executableTarget(
            name: "locality",
            dependencies: [
                "LocalityCore",
                "LocalityHTTPClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "cli/App"
        ),
        // zlib, for compressing large pulls; async-http-client already needs it to build.
        .systemLibrary(name: "CZlib", path: "sync-server/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "LocalitySyncServer",
            dependencies: [
                "LocalityCore",
                "CZlib",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "sync-server/Server"
        ),
        .executableTarget(
            name: "locality-sync",
            dependencies: [
                "LocalityCore",
                "LocalitySyncServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "sync-server/App"
        ),
        .executableTarget(
            name: "locality-bench",
            dependencies: [
                "LocalityCore",
                "LocalitySyncServer",
                "LocalityHTTPClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/locality-bench"
        ),
        // Every parser of outside input as a function of bytes (scripts/fuzz.sh runs them under libFuzzer).
        .target(name: "LocalityFuzzTargets", dependencies: ["LocalityCore"], path: "Fuzz/Targets"),
        .executableTarget(name: "locality-fuzz", dependencies: ["LocalityFuzzTargets"], path: "Fuzz/Driver"),
        .testTarget(
            name: "LocalityCoreTests",
            dependencies: ["LocalityCore", "LocalityFuzzTargets"],
            path: "Tests/LocalityCoreTests",
            // Read through #filePath, so a clean clone's tests find them without a bundle.
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "LocalitySyncServerTests",
            dependencies: [
                "LocalitySyncServer",
                "LocalityCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/LocalitySyncServerTests",
            // ONS lookups (Open Government Licence v3.0, see their README), read through #filePath.
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "LocalityCLITests",
            dependencies: ["locality", "LocalityCore", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/LocalityCLITests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
