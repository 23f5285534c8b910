// FleetIndex runtime: the queue between the runner's sources (async tasks) and its writer
// thread. Sources put events in; the writer takes a batch, or wakes when the clock may have
// reached a boundary.
import Foundation

/// Events waiting for the writer, with the submitters waiting for their commit.
///
/// `@unchecked Sendable`: every stored property is read and written only while `condition`
/// is locked (NSCondition is the lock and the wait in one); nothing escapes the lock.
final class Inbox: @unchecked Sendable {
    struct Item {
        var inputs: [PresenceInput]
        var acknowledge: CheckedContinuation<Runner.Result, Never>?
    }

    struct Work {
        var items: [Item]
        var closed: Bool
    }

    private let condition = NSCondition()
    private var items: [Item] = []
    private var waiting = 0
    private var closed = false
    private var summary = Presence.Summary()

    var count: Int { condition.lock(); defer { condition.unlock() }; return waiting }
    var totals: Presence.Summary { condition.lock(); defer { condition.unlock() }; return summary }

    func put(_ inputs: [PresenceInput], acknowledge: CheckedContinuation<Runner.Result, Never>?) {
        condition.lock()
        if closed {
            condition.unlock()
            acknowledge?.resume(returning: Runner.notTaken(inputs, "the runner is stopping"))
            return
        }
        items.append(Item(inputs: inputs, acknowledge: acknowledge))
        waiting += inputs.count
        condition.signal()
        condition.unlock()
    }

    /// Waits until events wait, the inbox closes or `due()` holds (checked at least every
    /// `pollMilliseconds` of real time), then takes whole items up to `max` events (at least one).
    func take(max: Int, until due: () -> Bool, pollMilliseconds: Int) -> Work {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed && !due() {
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(pollMilliseconds) / 1000))
        }
        var taken: [Item] = []
        var n = 0
        while let first = items.first, taken.isEmpty || n + first.inputs.count <= max {
            taken.append(items.removeFirst())
            n += first.inputs.count
        }
        waiting -= n
        return Work(items: taken, closed: closed)
    }

    /// Records what the writer made of `taken` and wakes their submitters.
    func finish(_ taken: [Item], _ results: [Runner.Result]) {
        condition.lock()
        for r in results {
            summary.accepted += r.summary.accepted
            summary.duplicate += r.summary.duplicate
            summary.stale += r.summary.stale
            summary.rejected += r.summary.rejected
            summary.ignored += r.summary.ignored
        }
        condition.unlock()
        for (item, r) in zip(taken, results) { item.acknowledge?.resume(returning: r) }
    }

    /// No more events: the writer commits what waits and ends.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The writer could not start: every waiting submitter is told so.
    func failAll() {
        condition.lock()
        let all = items
        items.removeAll()
        waiting = 0
        closed = true
        condition.unlock()
        finish(all, all.map { Runner.notTaken($0.inputs, "the database could not be opened") })
    }

    /// A one-time event a task can wait for (a thread's end).
    ///
    /// `@unchecked Sendable`: `fired` and `waiters` are touched only under `lock`.
    final class Signal: @unchecked Sendable {
        private let lock = NSLock()
        private var fired = false
        private var waiters: [CheckedContinuation<Void, Never>] = []

        func fire() {
            lock.lock()
            fired = true
            let w = waiters
            waiters.removeAll()
            lock.unlock()
            for c in w { c.resume() }
        }

        func wait() async {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                lock.lock()
                if fired {
                    lock.unlock()
                    c.resume()
                } else {
                    waiters.append(c)
                    lock.unlock()
                }
            }
        }
    }
}
