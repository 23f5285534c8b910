// FleetIndex runtime: the clock the runner evaluates on. Time is a parameter everywhere; the
// long-running parts take it injected so a test (or a replay) can drive it.
import Foundation
import Synchronization

/// Epoch milliseconds, as the engine counts time.
public protocol FleetClock: Sendable {
    func now() -> Int64
}

/// The system clock.
public struct SystemClock: FleetClock {
    public init() {}
    public func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// A clock that moves only when told to: tests and replays set it.
public final class ManualClock: FleetClock {
    private let time: Mutex<Int64>
    public init(_ start: Int64) { time = Mutex(start) }
    public func now() -> Int64 { time.withLock { $0 } }
    public func set(_ t: Int64) { time.withLock { $0 = t } }
    public func advance(by ms: Int64) { time.withLock { $0 += ms } }
}
