// FleetServer: database handles for concurrent requests. SQLite allows one writer and many
// readers (WAL); each request takes a handle of its own, so readers never wait on the writer.
import FleetIndex
import Foundation

/// Open handles to one database, reused across requests.
///
/// `@unchecked Sendable`: `idle` is touched only under `lock`; a handle is used by one request
/// at a time (taken out of `idle` while in use), so no FleetDatabase is ever shared.
public final class DatabasePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [FleetDatabase] = []
    private let open: @Sendable () throws -> FleetDatabase
    private let keep: Int

    public init(keep: Int = 16, open: @escaping @Sendable () throws -> FleetDatabase) {
        self.open = open
        self.keep = keep
    }

    /// Runs `body` with a handle of its own.
    public func with<T>(_ body: (FleetDatabase) throws -> T) throws -> T {
        lock.lock()
        let db = idle.popLast()
        lock.unlock()
        let handle = try db ?? open()
        defer {
            lock.lock()
            if idle.count < keep { idle.append(handle) }
            lock.unlock()
        }
        return try body(handle)
    }
}
