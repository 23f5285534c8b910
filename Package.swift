// swift-tools-version:6.1
// fleetdex: AWS IoT fleet indexing and Device Defender Detect, self-contained over SQLite.
import PackageDescription

let package = Package(
    name: "fleetdex",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fleetdex", targets: ["fleetdex"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The server only (fleetdex-server): HTTP, and SHA-256/HMAC for SigV4.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0", traits: []),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        // The HTTP parts the server's connection handlers see (Hummingbird's own dependency).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
        // The MQTT endpoint only (fleetdex-server): TCP and mutual TLS.
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
    ],
    targets: [
        // The system libsqlite3 (Debian: libsqlite3-dev); nothing vendored.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // The only module that calls C: Connection, Statement, Migrator.
        .target(name: "FleetSQLite", dependencies: ["CSQLite"]),
        // The system libpq (Debian: libpq5), for the PostgreSQL backend: loaded with dlopen on
        // the first postgres:// connection, so a SQLite command never loads it (start-up).
        .target(name: "CLibPQ", linkerSettings: [.linkedLibrary("dl")]),
        // The only module that calls libpq: PostgresConnection, PostgresMigrator (Schema/postgres/,
        // embedded), the Citus layout.
        .target(name: "FleetPostgres", dependencies: ["CLibPQ"], plugins: ["EmbedSchema"]),
        // The fleet query language alone: Lexer → Parser → Binder → BoundQuery, and the
        // Evaluator. Pure Swift: no SQL, no table names, no Foundation.
        .target(name: "FleetQuery"),
        // The storage layer: a bound query lowered to SQL (SQLFragment, one SQLDialect per
        // engine), the planner's shapes. Values only ever bound.
        .target(name: "FleetStorage", dependencies: ["FleetQuery"]),
        // Registry, presence, defender, alerts, groups, the evaluation cycle.
        .target(
            name: "FleetIndex",
            dependencies: ["FleetSQLite", "FleetPostgres", "FleetQuery", "FleetStorage"],
            plugins: ["EmbedSchema"]
        ),
        // The command line: flags in, responses out. Nothing about an operation lives here.
        .executableTarget(
            name: "fleetdex",
            dependencies: [
                "FleetIndex", "FleetQuery", "FleetDevices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Every command is a process: the release binary carries the Swift runtime and
            // Foundation statically (startup 5 ms instead of 9 ms: no dynamic symbol binding).
            swiftSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))],
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]
        ),
        // The AWS wire protocols over HTTP (iot rest-json, iot-data, SNS query, SQS json/query),
        // SigV4, presence over HTTP. Its own executable, so the CLI's start-up stays as it is.
        .target(
            name: "FleetServer",
            dependencies: [
                "FleetIndex", "FleetSQLite", "FleetQuery", "FleetDevices", "FleetMQTT",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            plugins: ["EmbedSchema"]
        ),
        .executableTarget(
            name: "fleetdex-server",
            dependencies: ["FleetServer"],
            swiftSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))],
            linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))]
        ),
        // Devices: the database's certificate authority, certificates, policies and their
        // evaluation, thing principals (X509 + Crypto; no openssl).
        .target(
            name: "FleetDevices",
            dependencies: [
                "FleetIndex", "FleetSQLite", "FleetStorage",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The MQTT endpoint (`fleetdex serve --mqtt-port`): MQTT 3.1.1 and 5 over mutual TLS, the
        // broker, lifecycle events through the runner, shadows over MQTT. Codec/ is pure Swift
        // (no NIO, no Foundation), so scripts/fuzz.sh compiles it alone (Fuzz/mqtt.swift).
        .target(
            name: "FleetMQTT",
            dependencies: [
                "FleetIndex", "FleetDevices",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Fuzzes what serve reads off the network (scripts/fuzz.sh runs it as `http`).
        .executableTarget(name: "fleetdex-wirefuzz", dependencies: ["FleetServer", "FleetIndex", "FleetTestSupport"]),
        // The benchmark: a deterministic synthetic fleet, every speed figure the issues set,
        // and the same work done by the sqlite3 shell for comparison.
        .executableTarget(name: "fleetdex-bench", dependencies: [
            "FleetIndex", "FleetSQLite", "FleetPostgres", "FleetQuery", "FleetStorage", "FleetTestSupport",
            // The mqtt stage's clients.
            "FleetDevices", "FleetMQTT",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // What the tests and the benchmark share (a seeded generator); not part of fleetdex.
        .target(name: "FleetTestSupport"),
        // Build tool: turns Schema/*.sql and Queries/*.fq into a Swift source file.
        .executableTarget(name: "fleetdex-embed"),
        .plugin(
            name: "EmbedSchema",
            capability: .buildTool(),
            dependencies: ["fleetdex-embed"]
        ),
        .testTarget(name: "FleetSQLiteTests", dependencies: ["FleetSQLite"]),
        .testTarget(name: "FleetPostgresTests", dependencies: ["FleetPostgres", "FleetTestSupport"], exclude: ["Snapshots"]),
        .testTarget(name: "FleetQueryTests", dependencies: ["FleetQuery", "FleetStorage", "FleetTestSupport"]),
        .testTarget(name: "FleetStorageTests", dependencies: ["FleetStorage", "FleetQuery"]),
        .testTarget(name: "FleetIndexTests", dependencies: ["FleetIndex", "FleetQuery", "FleetStorage", "FleetSQLite", "FleetPostgres", "FleetTestSupport"], exclude: ["Snapshots"]),
        .testTarget(name: "fleetdexTests", dependencies: ["FleetIndex"]),
        .testTarget(name: "FleetServerTests", dependencies: ["FleetServer", "FleetDevices", "FleetTestSupport", .product(name: "X509", package: "swift-certificates"), "FleetIndex", "FleetSQLite", .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        .testTarget(name: "FleetMQTTTests", dependencies: ["FleetMQTT", "FleetDevices", "FleetIndex", "FleetTestSupport"]),
        .testTarget(
            name: "FleetDevicesTests",
            dependencies: [
                "FleetDevices", "FleetIndex", "FleetSQLite",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
    ]
)
