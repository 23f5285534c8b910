// FleetServer: database handles for concurrent requests. SQLite allows one writer and many
// readers (WAL); each request takes a handle of its own, so readers never wait on the writer.
// A request whose client has gone (its task cancelled) stops between SQLite's steps, and a
// handle comes back to the pool only in a clean state.
import FleetIndex
import FleetSQLite
import Foundation

/// Open handles to one database, reused across requests.
///
/// `@unchecked Sendable`: `idle` and `counts` are touched only under `lock`; a handle is used
/// by one request at a time (taken out of `idle` while in use), so no FleetDatabase is ever shared.
public final class DatabasePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [FleetDatabase] = []
    private let open: @Sendable () throws -> FleetDatabase
    private let keep: Int
    private var counts = Counts()

    /// What the pool has seen (tests and diagnostics).
    public struct Counts: Equatable, Sendable {
        /// Handles opened.
        public var opened = 0
        /// Interruptible calls stopped because their task was cancelled (the client went away).
        public var cancelled = 0
        /// Handles closed instead of pooled: they came back inside a transaction (closing
        /// rolls it back).
        public var discarded = 0
    }

    public init(keep: Int = 16, open: @escaping @Sendable () throws -> FleetDatabase) {
        self.open = open
        self.keep = keep
    }

    public var statistics: Counts {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    /// Handles waiting in the pool.
    public var idleCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return idle.count
    }

    /// SQLite virtual-machine steps between two looks at the task's cancellation (a look is a
    /// thread-local read; 1,000 steps are some microseconds of work).
    static let cancellationCheckInterval: Int32 = 1000

    /// Runs `body` with a handle of its own, to its end.
    public func with<T>(_ body: (FleetDatabase) throws -> T) throws -> T {
        try with(interruptible: false, body)
    }

    /// Runs `body` with a handle of its own. `interruptible`: when the calling task is cancelled
    /// (serve cancels a request whose client closed its connection), the statement running stops
    /// with SQLITE_INTERRUPT and so does every later one, and the call throws
    /// `CancellationError`; for reads, whose work nobody is waiting for any more. Whatever
    /// happened, the handle is pooled again only outside a transaction and with no statement
    /// left mid-step.
    public func with<T>(interruptible: Bool, _ body: (FleetDatabase) throws -> T) throws -> T {
        if interruptible && Task.isCancelled { throw CancellationError() }
        lock.lock()
        let db = idle.popLast()
        if db == nil { counts.opened += 1 }
        lock.unlock()
        let handle = try db ?? open()
        let connection = handle.connection
        if interruptible { connection.stopWhen(every: Self.cancellationCheckInterval) { Task.isCancelled } }
        defer {
            if interruptible { connection.stopWhen(nil) }
            connection.resetBusyStatements()
            // A transaction left open (an engine call that failed half-way, or was stopped in a
            // read transaction): the handle is closed, not pooled, and closing rolls it back.
            let clean = !connection.isInTransaction
            lock.lock()
            if clean && idle.count < keep { idle.append(handle) }
            if !clean { counts.discarded += 1 }
            lock.unlock()
        }
        do {
            return try body(handle)
        } catch where interruptible && Task.isCancelled {
            lock.lock()
            counts.cancelled += 1
            lock.unlock()
            throw CancellationError()
        }
    }
}
