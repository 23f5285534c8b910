// FleetIndex runtime: webhook deliveries on a thread of their own, with a database handle of
// their own. A POST may take up to its timeout; intake and evaluation never wait for it.
import Foundation

/// Sends the due webhook deliveries every second, and at once after an evaluation.
///
/// `@unchecked Sendable`: `stopping` and `pending` are touched only under `condition`'s lock;
/// the rest is immutable.
final class DeliveryWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopping = false
    private var pending = false
    private let clock: any FleetClock
    private let open: @Sendable () throws -> FleetDatabase
    private let sender: WebhookDelivery.Sender
    private let report: @Sendable (RunnerEvent) -> Void

    init(clock: any FleetClock, open: @escaping @Sendable () throws -> FleetDatabase,
         sender: @escaping WebhookDelivery.Sender, report: @escaping @Sendable (RunnerEvent) -> Void) {
        self.clock = clock
        self.open = open
        self.sender = sender
        self.report = report
    }

    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "fleetdex-delivery"
        thread.start()
    }

    func wake() {
        condition.lock()
        pending = true
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        let db: FleetDatabase
        do { db = try open() } catch {
            report(.failed("webhook delivery cannot open the database: \(error)"))
            return
        }
        while true {
            condition.lock()
            if !pending && !stopping { _ = condition.wait(until: Date(timeIntervalSinceNow: 1)) }
            let stop = stopping
            pending = false
            condition.unlock()
            if stop { return }
            do {
                let r = try WebhookDelivery(db).deliverDue(at: clock.now(), send: sender)
                if r.delivered + r.failed > 0 { report(.delivered(delivered: r.delivered, failed: r.failed)) }
            } catch {
                report(.failed("webhook delivery: \(error)"))
            }
        }
    }
}
