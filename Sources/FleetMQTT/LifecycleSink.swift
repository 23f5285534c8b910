// FleetMQTT: the lifecycle events the endpoint makes, handed to the engine in order. Events
// are queued as they happen and submitted in batches by one task, so a burst of connections
// costs one commit, not one each, and the events of a client reach the runner in the order
// they happened. `drain` waits until everything queued is committed (shutdown, tests).
import FleetIndex
import NIOConcurrencyHelpers

public final class LifecycleSink: Sendable {
    public typealias Submit = @Sendable ([LifecycleEvent]) async -> Void

    private struct State {
        var queue: [LifecycleEvent] = []
        var running = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = NIOLockedValueBox(State())
    private let submit: Submit

    public init(submit: @escaping Submit) { self.submit = submit }

    public func put(_ event: LifecycleEvent) {
        let start = state.withLockedValue { s -> Bool in
            s.queue.append(event)
            if s.running { return false }
            s.running = true
            return true
        }
        if start { Task { await self.run() } }
    }

    private func run() async {
        while true {
            let batch = state.withLockedValue { s -> [LifecycleEvent] in
                defer { s.queue.removeAll() }
                return s.queue
            }
            if batch.isEmpty {
                let waiters = state.withLockedValue { s -> [CheckedContinuation<Void, Never>]? in
                    guard s.queue.isEmpty else { return nil }
                    s.running = false
                    defer { s.waiters.removeAll() }
                    return s.waiters
                }
                guard let waiters else { continue }
                for w in waiters { w.resume() }
                return
            }
            await submit(batch)
        }
    }

    /// Returns once every event put so far is submitted.
    public func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let idle = state.withLockedValue { s -> Bool in
                if !s.running && s.queue.isEmpty { return true }
                s.waiters.append(c)
                return false
            }
            if idle { c.resume() }
        }
    }
}
