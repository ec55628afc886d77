import Foundation
import Logging
import PostgresNIO
import SpendPostgres
import Testing

/// A fresh database per test on the server `SPENDBOARD_TEST_POSTGRES` names (`.ci/run` starts
/// one with `scripts/postgres-test-server.sh`). Without it the tests are skipped, unless
/// `SPENDBOARD_REQUIRE_POSTGRES=1` (CI), where they fail.
enum TestDatabase {
    static let server = ProcessInfo.processInfo.environment["SPENDBOARD_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = ProcessInfo.processInfo.environment["SPENDBOARD_REQUIRE_POSTGRES"] == "1"
    /// For `.enabled(if:)`: run when there is a server, or when one is required (and fail).
    static let available = server != nil || required

    static let logger = Logger(label: "test.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Creates an empty database and returns its URL.
    static func make() async throws -> String {
        let server = try #require(server, "SPENDBOARD_TEST_POSTGRES is not set: start scripts/postgres-test-server.sh and export its URL")
        let location = try PostgresLocation(url: server)
        let name = "spendboard_test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password, database: location.database,
            tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        try await connection.close()
        return "postgres://\(location.username)@\(location.host):\(location.port)/\(name)"
    }

    /// Runs SQL on `url` (test set-up and checks).
    static func execute(_ sql: String, on url: String) async throws {
        let location = try PostgresLocation(url: url)
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password, database: location.database,
            tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// One integer from `sql` on `url`.
    static func integer(_ sql: String, on url: String) async throws -> Int64 {
        let location = try PostgresLocation(url: url)
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password, database: location.database,
            tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        var result: Int64?
        do {
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int64.self) {
                result = value
            }
        } catch {
            try await connection.close()
            throw error
        }
        try await connection.close()
        return try #require(result, "\(sql) returned no row")
    }
}
