// FleetIndex runtime: the long-running engine. Lifecycle events come in from any source (a
// followed file or standard input, HTTP requests, the MQTT endpoint); the runner commits them
// in short batches, evaluates on every boundary of the injected clock, and hands webhook
// deliveries to a worker of their own, so an endpoint that never answers delays neither
// intake nor evaluation.
//
//   source ──► Inbox ──► writer thread: intake (Presence) → evaluation (EvaluationCycle)
//                                      └──► DeliveryWorker thread: webhooks (WebhookDelivery)
import Foundation

/// One lifecycle event as it arrived: a JSON payload (a line of a file, a request body's
/// element, an event the MQTT endpoint made) and where it came from, for error reports.
public struct PresenceInput: Sendable {
    public var line: Int
    public var payload: Payload

    public enum Payload: Sendable {
        /// JSON text, parsed by the writer.
        case json([UInt8])
        /// An event made in process (the MQTT endpoint).
        case event(LifecycleEvent)
    }

    public init(line: Int, json: [UInt8]) { self.line = line; self.payload = .json(json) }
    public init(line: Int, event: LifecycleEvent) { self.line = line; self.payload = .event(event) }
}

/// What the runner did, as it happens: the front end logs it, tests watch it.
public enum RunnerEvent: Sendable {
    case rejected(line: Int, message: String)
    case evaluated(at: Int64, ticks: Int, raised: Int, cleared: Int, alerts: Int, joined: Int, left: Int)
    case delivered(delivered: Int, failed: Int)
    case failed(String)
}

/// The engine of `fleetdex run` and `fleetdex serve`.
public final class Runner: Sendable {
    public struct Configuration: Sendable {
        /// Evaluation period, aligned to the clock (the 5-minute tick).
        public var interval: Int64 = EvaluationCycle.tick
        /// Whether the runner evaluates (`serve --no-evaluate` leaves it to `fleetdex evaluate`).
        public var evaluates = true
        /// Events committed per transaction, at most.
        public var batchSize = 500
        /// How often, at most, the writer looks at the clock while nothing arrives (real time).
        public var pollMilliseconds = 100
        /// Events waiting beyond this make `feed` wait for the writer (back-pressure).
        public var inboxLimit = 20_000
        public init() {}
    }

    /// Totals since the start, and the bad lines of one submission.
    public struct Result: Sendable, Equatable {
        public var summary = Presence.Summary()
        public var rejected: [Rejection] = []
        public init() {}
    }

    public struct Rejection: Sendable, Equatable {
        public var line: Int
        public var message: String
    }

    /// Every input of a submission refused with one reason.
    static func notTaken(_ inputs: [PresenceInput], _ message: String) -> Result {
        var r = Result()
        r.summary.rejected = inputs.count
        r.rejected = inputs.map { Rejection(line: $0.line, message: message) }
        return r
    }

    private let inbox: Inbox
    private let delivery: DeliveryWorker
    private let configuration: Configuration
    private let clock: any FleetClock
    private let open: @Sendable () throws -> FleetDatabase
    private let report: @Sendable (RunnerEvent) -> Void
    private let finished: Inbox.Signal

    /// `open` gives each thread of the runner its own database handle; `report` is called from
    /// the runner's threads.
    public init(configuration: Configuration = Configuration(), clock: any FleetClock = SystemClock(),
                open: @escaping @Sendable () throws -> FleetDatabase,
                sender: @escaping WebhookDelivery.Sender = WebhookDelivery.post,
                report: @escaping @Sendable (RunnerEvent) -> Void = { _ in }) {
        self.configuration = configuration
        self.clock = clock
        self.open = open
        self.report = report
        inbox = Inbox()
        finished = Inbox.Signal()
        delivery = DeliveryWorker(clock: clock, open: open, sender: sender, report: report)
    }

    /// Starts the writer and the delivery worker. The database is opened once here first, so
    /// that a bad path fails the start, not a thread.
    public func start() throws {
        _ = try open()
        delivery.start()
        // The first boundary is the one after the start, whenever the thread gets going.
        let step = max(1, configuration.interval)
        let first = (clock.now() / step + 1) * step
        let thread = Thread { [self] in
            writerLoop(firstEvaluation: first)
            finished.fire()
        }
        thread.name = "fleetdex-writer"
        thread.start()
    }

    /// Enqueues events and returns once they are committed, with the bad ones named.
    public func submit(_ inputs: [PresenceInput]) async -> Result {
        await withCheckedContinuation { continuation in
            inbox.put(inputs, acknowledge: continuation)
        }
    }

    /// Enqueues every event of `source` as it arrives; waits for the writer only when more
    /// than `inboxLimit` events wait. Returns when the source ends.
    public func feed<S: AsyncSequence>(_ source: S) async throws where S.Element == PresenceInput {
        for try await input in source {
            if inbox.count >= configuration.inboxLimit {
                _ = await submit([input])
            } else {
                inbox.put([input], acknowledge: nil)
            }
        }
    }

    /// Totals since the start.
    public var totals: Presence.Summary { inbox.totals }

    /// Commits what waits, stops the writer and the delivery worker, and returns the totals.
    /// A delivery in flight is left to finish on its own (it stays pending in the database if
    /// the process ends first, and is retried by the next start).
    public func stop() async -> Presence.Summary {
        inbox.close()
        delivery.stop()
        await finished.wait()
        return inbox.totals
    }

    // MARK: the writer

    private func writerLoop(firstEvaluation: Int64) {
        let db: FleetDatabase
        do { db = try open() } catch {
            report(.failed("cannot open the database: \(error)"))
            inbox.failAll()
            return
        }
        let presence = Presence(db)
        let step = max(1, configuration.interval)
        var nextEvaluation = firstEvaluation
        while true {
            let due = configuration.evaluates ? nextEvaluation : Int64.max
            let work = inbox.take(max: configuration.batchSize, until: { [clock] in clock.now() >= due },
                                  pollMilliseconds: configuration.pollMilliseconds)
            if !work.items.isEmpty { commit(work.items, presence, db) }
            let now = clock.now()
            if configuration.evaluates && now >= nextEvaluation {
                // Evaluates up to the newest boundary: a clock that jumped ahead catches up
                // the ticks in between in one cycle.
                let boundary = now / step * step
                evaluate(at: boundary, db)
                nextEvaluation = boundary + step
                delivery.wake()
            }
            if work.closed && work.items.isEmpty { break }
        }
    }

    private func commit(_ items: [Inbox.Item], _ presence: Presence, _ db: FleetDatabase) {
        var results = [Result](repeating: Result(), count: items.count)
        // The batch's events are decoded first, then ingested together in arrival order in one
        // transaction (a few statements for the whole batch); each outcome goes to its submission.
        var events: [LifecycleEvent] = []
        var owners: [Int] = []
        for (i, item) in items.enumerated() {
            for input in item.inputs {
                switch input.payload {
                case .event(let e):
                    events.append(e)
                    owners.append(i)
                case .json(let bytes):
                    do throws(FleetError) {
                        // As ingest-events reads a line: other event kinds are ignored.
                        guard let e = try LifecycleEvent.decode(line: bytes) else {
                            results[i].summary.ignored += 1
                            continue
                        }
                        events.append(e)
                        owners.append(i)
                    } catch {
                        results[i].summary.rejected += 1
                        results[i].rejected.append(Rejection(line: input.line, message: error.message))
                    }
                }
            }
        }
        do {
            for (o, i) in zip(try presence.ingestCommitted(batch: events, clientOrder: .arrival), owners) { results[i].summary.add(o) }
        } catch {
            // The batch is rolled back whole: every event of it is reported as not taken.
            report(.failed("a batch of \(items.reduce(0) { $0 + $1.inputs.count }) event(s) was not committed: \(error)"))
            results = items.map { Runner.notTaken($0.inputs, "not committed: \(error)") }
        }
        for r in results { for x in r.rejected { report(.rejected(line: x.line, message: x.message)) } }
        inbox.finish(items, results)
    }

    private func evaluate(at time: Int64, _ db: FleetDatabase) {
        do {
            let r = try EvaluationCycle(db).evaluate(at: time)
            report(.evaluated(at: time, ticks: r.ticks.count, raised: r.raised, cleared: r.cleared, alerts: r.alerts,
                              joined: r.joined, left: r.left))
        } catch {
            report(.failed("evaluation at \(Timestamp.iso(time)) failed: \(error)"))
        }
    }
}
