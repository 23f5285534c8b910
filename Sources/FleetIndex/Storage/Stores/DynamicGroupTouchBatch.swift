// FleetIndex storage: the change log (thing_touch) written for a whole batch of things at
// once (ingest's flush): one statement per thing on SQLite, one for the batch on PostgreSQL.
import FleetPostgres
import FleetStorage

extension DynamicGroupStore {
    /// Notes that the searchable state of each of `things` changed.
    func touch(_ things: [Int64]) throws {
        guard !things.isEmpty else { return }
        guard c.dialect.writesBatchesAsArrays else {
            for t in things { try touch(t) }
            return
        }
        try c.execute("INSERT INTO thing_touch(thing) SELECT DISTINCT unnest(?::bigint[]) ON CONFLICT DO NOTHING", [PostgresArray.literal(things)])
    }
}
