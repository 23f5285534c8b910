// FleetServer: database handles for concurrent requests. SQLite allows one writer and many
// readers (WAL); each request takes a handle of its own, so readers never wait on the writer.
// The blocking work runs on threads of the pool's own, not on Swift's cooperative threads
// (which run every request's task and Hummingbird's): reads on several, writes on one, so a
// write waiting for another process's write lock holds up only the writes behind it; only
// reads of one item by key (Lane.inPlace) run where the request's task is.
// A request whose client has gone (its task cancelled) stops between SQLite's steps, and a
// handle comes back to the pool only in a clean state.
import FleetIndex
import FleetSQLite
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Open handles to one database, reused across requests, and the threads that use them.
///
/// `@unchecked Sendable`: `idle` and `counts` are touched only under `lock`; a handle is used
/// by one request at a time (taken out of `idle` while in use), so no FleetDatabase is ever shared.
public final class DatabasePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [FleetDatabase] = []
    private let open: @Sendable () throws -> FleetDatabase
    private let keep: Int
    private var counts = Counts()
    /// The threads reads run on, and the one thread writes run on (in the order they came),
    /// started by the first `run` (a pool used only through `with`, the MQTT endpoint's, has none).
    private var lanes: (readers: NIOThreadPool, writer: NIOThreadPool)?
    private let readThreads: Int
    /// How long a write may wait for another process's write lock, counted from when it was
    /// queued (`lockedOutAfter`).
    private let writeDeadline: TimeAmount

    /// Which threads a call runs on.
    public enum Lane: Sendable {
        /// Reads: several at once, none waiting on a write.
        case read
        /// Writes: one at a time, in order. SQLite lets one connection write at a time anyway;
        /// queued here they never wait on each other's lock with the busy handler's sleeps, and
        /// one stuck behind another process's write lock holds up no read.
        case write
        /// Reads of one item by its key (DescribeThing): short and bounded, they run on the
        /// calling task's thread, without the two thread switches a lane costs (a tenth of
        /// DescribeThing's rate under load).
        case inPlace
    }

    /// Threads for reads when none is said: enough that a few slow searches do not hold up the
    /// quick reads behind them.
    public static var defaultReadThreads: Int { max(4, 2 * System.coreCount) }

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

    public init(keep: Int = 16, readThreads: Int = DatabasePool.defaultReadThreads,
                writeDeadline: TimeAmount = DatabasePool.defaultWriteDeadline, open: @escaping @Sendable () throws -> FleetDatabase) {
        self.open = open
        self.writeDeadline = writeDeadline
        self.readThreads = max(1, readThreads)
        // A handle for each thread that can use one at once, so none is opened per request.
        self.keep = max(keep, self.readThreads + 1)
    }

    deinit {
        // Not waited for: the last reference can go on one of the pool's own threads.
        lanes?.readers.shutdownGracefully { _ in }
        lanes?.writer.shutdownGracefully { _ in }
    }

    /// The threads of `lane`, started on first use.
    private func threads(_ lane: Lane) -> NIOThreadPool {
        lock.lock()
        defer { lock.unlock() }
        if lanes == nil {
            let readers = NIOThreadPool(numberOfThreads: readThreads), writer = NIOThreadPool(numberOfThreads: 1)
            readers.start()
            writer.start()
            lanes = (readers, writer)
        }
        return lane == .read ? lanes!.readers : lanes!.writer
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

    /// Runs `body` with a handle of its own on the `lane`'s threads; the calling task waits
    /// without holding a thread. `interruptible` (reads): when the task is cancelled (serve
    /// cancels a request whose client closed its connection) a call not yet started does not
    /// start, and one running stops at its next check (`with(interruptible:)`), throwing
    /// `CancellationError`. Other calls run to their end once submitted, cancelled or not.
    public func run<T>(_ lane: Lane, interruptible: Bool = false, _ body: @escaping (FleetDatabase) throws -> T) async throws -> T {
        if lane == .inPlace { return try with(interruptible: interruptible, body) }
        let stop = NIOLockedValueBox(false)
        let work = Unchecked(lane == .write ? Self.lockedOutAfter(writeDeadline, from: .now(), body) : body)
        let threads = threads(lane)
        let outcome: Unchecked<Result<T, any Error>> = await withTaskCancellationHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Unchecked<Result<T, any Error>>, Never>) in
                threads.submit { state in
                    guard state == .active else {
                        done.resume(returning: Unchecked(.failure(FleetError(.internalFailure, "serve is stopping"))))
                        return
                    }
                    let r = Result { try self.with(interruptible: interruptible, stopped: { stop.withLockedValue { $0 } }, work.value) }
                    done.resume(returning: Unchecked(r))
                }
            }
        } onCancel: {
            stop.withLockedValue { $0 = true }
        }
        return try outcome.value.get()
    }

    /// How long a write may wait for another process's write lock, counted from when it was
    /// queued, not from when its turn came: SQLite's own busy timeout, so writes queued behind
    /// a lock that stays held all fail about then, as they did when each waited side by side,
    /// instead of one busy timeout after another.
    public static let defaultWriteDeadline = TimeAmount.milliseconds(Int64(Connection.defaultBusyTimeout))

    /// What a write whose turn comes after its deadline still gets to wait for a lock: a commit
    /// of the runner's or a small CLI command's is over in well under this (a CLI import holding
    /// the lock for seconds is not: writes queued that long fail, as the CLI's would).
    static let leastLockWait = TimeAmount.milliseconds(100)

    /// `body`, waiting for another connection's lock only until `deadline` after `queued` (at
    /// least `leastLockWait`), then the handle's usual busy timeout again.
    static func lockedOutAfter<T>(_ deadline: TimeAmount, from queued: NIODeadline,
                                  _ body: @escaping (FleetDatabase) throws -> T) -> (FleetDatabase) throws -> T {
        { db in
            let left = max(leastLockWait, deadline - (NIODeadline.now() - queued))
            let usual = db.connection.busyTimeout
            db.connection.busyTimeout = Int(left.nanoseconds / 1_000_000)
            defer { db.connection.busyTimeout = usual }
            return try body(db)
        }
    }

    /// A value handed between the calling task and the pool's thread, used by one at a time.
    private struct Unchecked<V>: @unchecked Sendable {
        let value: V
        init(_ v: V) { value = v }
    }

    /// Runs `body` with a handle of its own, to its end, on the calling thread.
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
        try with(interruptible: interruptible, stopped: { Task.isCancelled }, body)
    }

    /// `with(interruptible:)`, stopping when `stopped` says so.
    func with<T>(interruptible: Bool, stopped: @escaping () -> Bool, _ body: (FleetDatabase) throws -> T) throws -> T {
        if interruptible && stopped() { throw CancellationError() }
        lock.lock()
        let db = idle.popLast()
        if db == nil { counts.opened += 1 }
        lock.unlock()
        let handle = try db ?? open()
        let connection = handle.connection
        if interruptible { connection.stopWhen(every: Self.cancellationCheckInterval, stopped) }
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
        } catch where interruptible && stopped() {
            lock.lock()
            counts.cancelled += 1
            lock.unlock()
            throw CancellationError()
        }
    }
}
