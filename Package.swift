// swift-tools-version:6.1
import PackageDescription

/// One settings list for every target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "spendboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "spendboard", targets: ["spendboard"]),
        .library(name: "SpendCore", targets: ["SpendCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .target(
            name: "SpendCore",
            dependencies: [.product(name: "DequeModule", package: "swift-collections"), .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "SpendServer",
            dependencies: [
                "SpendCore",
                "SpendReport",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(
            name: "SpendReport",
            dependencies: [
                "SpendCore",
                "CLibXML2",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SpendAlerts",
            dependencies: [
                "SpendCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SpendStorage",
            dependencies: ["SpendCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "SpendPostgres",
            dependencies: [
                "SpendCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SpendApp",
            dependencies: [
                "SpendAlerts",
                "SpendCore",
                "SpendPostgres",
                "SpendReport",
                "SpendServer",
                "SpendStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "spendboard",
            dependencies: [
                "SpendAlerts",
                "SpendApp",
                "SpendCore",
                "SpendReport",
                "SpendServer",
                "SpendStorage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "SpendboardBenchmarks",
            dependencies: [
                "SpendCore",
                "SpendReport",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/SpendboardBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .testTarget(name: "SpendCoreTests", dependencies: ["SpendCore"]),
        .testTarget(
            name: "SpendAlertsTests",
            dependencies: [
                "SpendAlerts", "SpendCore", "SpendStorage", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "SpendStorageTests", dependencies: ["SpendCore", "SpendStorage", .product(name: "GRDB", package: "GRDB.swift")],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "SpendPostgresTests",
            dependencies: ["SpendCore", "SpendPostgres", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .testTarget(
            name: "SpendReportTests",
            dependencies: ["SpendReport", "SpendCore", .product(name: "Logging", package: "swift-log")],
            exclude: ["Golden"]
        ),
        .testTarget(
            name: "SpendAppTests",
            dependencies: ["SpendApp", .product(name: "HummingbirdTesting", package: "hummingbird")]
        ),
        .testTarget(
            name: "SpendServerTests",
            dependencies: [
                "SpendServer",
                "SpendReport",
                "SpendStorage",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The DevTools-protocol driver the browser check runs with python3, and the webhook
            // receiver of the alert test.
            exclude: ["Browser", "Receivers"]
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
