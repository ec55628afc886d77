import Foundation
import NIOSSL
import PostgresNIO
import SpendCore
import Synchronization

/// Where the shared database is: `postgres://user[:password]@host[:port]/database[?sslmode=…]`,
/// from `--store` or `SPENDBOARD_DATABASE_URL`.
///
/// `sslmode` is `disable` (the default, for a server on loopback or a private network),
/// `prefer` or `require`; `require` verifies the server's certificate and name against the
/// system's trust roots. The password may also come from `PGPASSWORD`.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// Parses a URL; the error names what is wrong and never repeats the password.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(PostgresLocationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw PostgresLocationError("is not a URL; expected postgres://user@host:port/database")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw PostgresLocationError("must start with postgres:// (got \(scheme)://)")
        }
        guard let host = components.host, !host.isEmpty else { throw PostgresLocationError("names no host") }
        guard let user = components.user, !user.isEmpty else {
            throw PostgresLocationError("names no user; expected postgres://user@\(host)/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresLocationError("names no database; expected postgres://\(user)@\(host)/database")
        }
        if let port = components.port, !(1...65535).contains(port) { throw PostgresLocationError("has port \(port), outside 1...65535") }
        var tls = TLSMode.disable
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw PostgresLocationError(
                        "sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")) (got \(item.value ?? ""))")
                }
                tls = mode
            default:
                throw PostgresLocationError("has the parameter '\(item.name)', which Spendboard does not know (only sslmode)")
            }
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user
        self.password = components.password ?? environment["PGPASSWORD"]
        self.database = database
        self.tls = tls
    }

    /// The URL without its password, for logs and `/api/health`.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)" + (tls == .disable ? "" : "?sslmode=\(tls.rawValue)")
    }

    func tlsConfiguration() throws -> PostgresConnection.Configuration.TLS {
        switch tls {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: try tlsConfiguration())
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    func clientConfiguration(connections: Int) throws -> PostgresClient.Configuration {
        let tlsMode: PostgresClient.Configuration.TLS
        switch tls {
        case .disable: tlsMode = .disable
        case .prefer: tlsMode = .prefer(.makeClientConfiguration())
        case .require: tlsMode = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tlsMode)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = connections
        configuration.options.minimumConnections = 1
        return configuration
    }
}

/// A `--store` URL that cannot work.
public struct PostgresLocationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ problem: String) {
        description = "the PostgreSQL URL \(problem)"
    }
}

/// Runs `operation`, or throws `JournalError` once `limit` has passed. The pool waits for a
/// connection while the server is down, and a query on a connection whose server died may
/// never answer: callers (a producer's request, the follower, the leader's check) must learn
/// of it within seconds. The operation is cancelled and left behind, never waited for, so a
/// call that ignores cancellation cannot hold the caller (or shutdown) either.
func withDeadline<Result: Sendable>(
    _ limit: Duration, _ what: @autoclosure () -> String, operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withDeadline(limit, extended: nil, what(), disarmable: { _ in try await operation() })
}

/// The same, but `operation` may move the deadline once (when it holds a connection, say) to
/// `extended` after the start: waiting is short, work may take longer on a busy machine.
func withDeadline<Result: Sendable>(
    _ limit: Duration, extended: Duration? = nil, _ what: @autoclosure () -> String,
    disarmable operation: @escaping @Sendable (_ disarm: @escaping @Sendable () -> Void) async throws -> Result
) async throws -> Result {
    let description = what()
    let outcome = Mutex<CheckedContinuation<Result, any Error>?>(nil)
    let armed = Mutex(true)
    let disarm: @Sendable () -> Void = { armed.withLock { $0 = false } }
    let isArmed: @Sendable () -> Bool = { armed.withLock { $0 } }
    let finish: @Sendable (Swift.Result<Result, any Error>) -> Void = { result in
        outcome.withLock { continuation in
            continuation?.resume(with: result)
            continuation = nil
        }
    }
    let work = Mutex<Task<Void, Never>?>(nil)
    let timer = Mutex<Task<Void, Never>?>(nil)
    // The timer is stopped when the operation ends: no sleeping task is left per call.
    let stopTimer: @Sendable () -> Void = { timer.withLock { $0?.cancel() } }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            outcome.withLock { $0 = continuation }
            let task = Task {
                do {
                    finish(.success(try await operation(disarm)))
                } catch {
                    finish(.failure(error))
                }
                stopTimer()
            }
            work.withLock { $0 = task }
            let clock = Task {
                try? await Task.sleep(for: limit)
                var waited = limit
                if !isArmed() {
                    guard let extended, extended > limit else { return }
                    try? await Task.sleep(for: extended - limit)
                    waited = extended
                }
                guard !Task.isCancelled else { return }
                finish(.failure(JournalError(message: "\(description): no answer within \(waited.components.seconds) s")))
                task.cancel()
            }
            timer.withLock { $0 = clock }
        }
    } onCancel: {
        finish(.failure(CancellationError()))
        work.withLock { $0?.cancel() }
    }
}
