// FleetMQTT: how the endpoint reaches the database: a handle of its own for each blocking
// call (serve passes its DatabasePool; the tests a handle opener). Calls are made on the
// endpoint's thread pool, never on an event loop.
import FleetIndex

public protocol DatabaseAccess: Sendable {
    func with<T>(_ body: (FleetDatabase) throws -> T) throws -> T
}
