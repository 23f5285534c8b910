// FleetIndex storage: the metric series of each (client, metric) pair, stored as runs of
// ticks with a start value and a step (`metric_run`), read and written by the evaluation cycle.
import FleetSQLite
import FleetStorage

/// Reading and writing `metric_run`.
struct MetricRuns {
    let c: StoreConnection
    private static let insertRun = """
        INSERT INTO metric_run(client, metric, first_tick, last_tick, start_value, step) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT(client, metric, first_tick) DO UPDATE SET last_tick = excluded.last_tick, start_value = excluded.start_value, step = excluded.step
        """

    static func run(_ s: StoreRow, from i: Int) -> MetricRun {
        MetricRun(first: s.int(i), last: s.optionalInt(i + 1), start: s.optionalInt(i + 2), step: s.int(i + 3), stored: true)
    }

    /// The latest run of a pair that starts at or before `tick`.
    func latest(client: Int64, metric: Int64, upTo tick: Int64) throws -> MetricRun? {
        try c.query("SELECT first_tick, last_tick, start_value, step FROM metric_run WHERE client = ? AND metric = ? AND first_tick <= ? ORDER BY first_tick DESC LIMIT 1",
                    [client, metric, tick]) { MetricRuns.run($0, from: 0) }.first
    }

    /// The latest run of every pair that starts at or before `tick` (one pass over the table).
    func allLatest(upTo tick: Int64) throws -> [Int64: [Int64: MetricRun]] {
        var out: [Int64: [Int64: MetricRun]] = [:]
        // SQLite takes the other columns from the row of the max (its bare-column rule);
        // PostgreSQL says so with DISTINCT ON.
        let sql = c.isPostgres
            ? "SELECT DISTINCT ON (client, metric) client, metric, first_tick, last_tick, start_value, step FROM metric_run WHERE first_tick <= ? ORDER BY client, metric, first_tick DESC"
            : "SELECT client, metric, max(first_tick), last_tick, start_value, step FROM metric_run WHERE first_tick <= ? GROUP BY client, metric"
        try c.forEach(sql, [tick]) { s in
            out[s.int(0), default: [:]][s.int(1)] = MetricRuns.run(s, from: 2)
        }
        return out
    }

    /// The runs of a pair that cover ticks from `from` through `through`, in order.
    func covering(client: Int64, metric: Int64, from: Int64, through: Int64) throws -> [MetricRun] {
        try c.query("""
            SELECT first_tick, last_tick, start_value, step FROM metric_run WHERE client = ?1 AND metric = ?2 AND first_tick <= ?4
            AND first_tick >= coalesce((SELECT max(first_tick) FROM metric_run WHERE client = ?1 AND metric = ?2 AND first_tick <= ?3), ?3)
            ORDER BY first_tick
            """, [client, metric, from, through]) { MetricRuns.run($0, from: 0) }
    }

    func write(client: Int64, metric: Int64, _ runs: [MetricRun]) throws {
        guard !runs.isEmpty else { return }
        let insert = try c.prepare(Self.insertRun)
        let update = try c.prepare("UPDATE metric_run SET last_tick = ?, start_value = ?, step = ? WHERE client = ? AND metric = ? AND first_tick = ?")
        for r in runs {
            let last = r.last.map(SQLiteValue.integer) ?? .null, start = r.start.map(SQLiteValue.integer) ?? .null
            if r.stored {
                try update.bind([last, start, .integer(r.step), .integer(client), .integer(metric), .integer(r.first)])
                _ = try update.step()
            } else {
                try insert.bind([.integer(client), .integer(metric), .integer(r.first), last, start, .integer(r.step)])
                _ = try insert.step()
            }
        }
    }

    /// Drops the runs that cover nothing at or after `cutoff`: those followed by a run that
    /// starts by then, and gaps (no datapoints) that start by then.
    func prune(before cutoff: Int64) throws {
        try c.execute("""
            DELETE FROM metric_run WHERE EXISTS (SELECT 1 FROM metric_run AS n WHERE n.client = metric_run.client
                AND n.metric = metric_run.metric AND n.first_tick > metric_run.first_tick AND n.first_tick <= ?)
            """, [cutoff])
        try c.execute("DELETE FROM metric_run WHERE start_value IS NULL AND first_tick <= ?", [cutoff])
    }
}
