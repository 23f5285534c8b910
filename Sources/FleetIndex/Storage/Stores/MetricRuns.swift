// FleetIndex storage: the metric series of each (client, metric) pair, stored as runs of
// ticks with a start value and a step (`metric_run`), read and written by the evaluation cycle.
import FleetPostgres
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

    /// The latest run of every pair that starts at or before `tick` (one pass over the table),
    /// or of the pairs of `clients` only (one statement per chunk of clients).
    func allLatest(upTo tick: Int64, clients: [Int64]? = nil) throws -> [Int64: [Int64: MetricRun]] {
        var out: [Int64: [Int64: MetricRun]] = [:]
        let chunks: [[Int64]?] = clients.map { $0.chunks(of: StoreBatch.ids).map(Array.init) } ?? [nil]
        for chunk in chunks {
            let filter = chunk == nil ? "" : " AND client IN \(c.dialect.boundIntegerList)"
            // SQLite takes the other columns from the row of the max (its bare-column rule);
            // PostgreSQL says so with DISTINCT ON.
            let sql = c.isPostgres
                ? "SELECT DISTINCT ON (client, metric) client, metric, first_tick, last_tick, start_value, step FROM metric_run WHERE first_tick <= ?\(filter) ORDER BY client, metric, first_tick DESC"
                : "SELECT client, metric, max(first_tick), last_tick, start_value, step FROM metric_run WHERE first_tick <= ?\(filter) GROUP BY client, metric"
            let binds: [SQLiteValue] = [.integer(tick)] + (chunk.map { [.text(SearchStore.idList($0))] } ?? [])
            try c.forEach(sql, binds) { s in
                out[s.int(0), default: [:]][s.int(1)] = MetricRuns.run(s, from: 2)
            }
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

    /// The runs of one (client, metric) pair to write: updated when stored, inserted if not.
    struct PairWrites {
        var client: Int64
        var metric: Int64
        var runs: [MetricRun]
    }

    /// Writes the runs of many pairs, as if pair by pair and run by run. SQLite: held statements,
    /// a row each. PostgreSQL: the rows of a chunk in one INSERT and one UPDATE over arrays (a
    /// run written twice is written once, as it ends up).
    func write(_ pairs: [PairWrites]) throws {
        guard c.dialect.writesBatchesAsArrays else {
            for p in pairs { try write(client: p.client, metric: p.metric, p.runs) }
            return
        }
        struct Key: Hashable { var client, metric, first: Int64 }
        var rows: [(Key, MetricRun)] = []
        var at: [Key: Int] = [:]
        for p in pairs {
            for r in p.runs {
                let k = Key(client: p.client, metric: p.metric, first: r.first)
                if let i = at[k] { rows[i].1 = r } else { at[k] = rows.count; rows.append((k, r)) }
            }
        }
        func array(_ xs: [Int64?]) -> SQLiteValue { .text(PostgresArray.literal(xs)) }
        for chunk in rows.chunks(of: StoreBatch.rows) {
            for stored in [false, true] {
                let part = chunk.filter { $0.1.stored == stored }
                guard !part.isEmpty else { continue }
                let binds = [array(part.map { $0.0.client }), array(part.map { $0.0.metric }), array(part.map { $0.0.first }),
                             array(part.map { $0.1.last }), array(part.map { $0.1.start }), array(part.map { $0.1.step })]
                try c.execute(stored ? Self.updateRuns : Self.insertRuns, binds)
            }
        }
    }

    private static let rowsOfArrays = "unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[]) AS u(client, metric, first_tick, last_tick, start_value, step)"
    private static let insertRuns = """
        INSERT INTO metric_run(client, metric, first_tick, last_tick, start_value, step) SELECT * FROM \(rowsOfArrays)
        ON CONFLICT(client, metric, first_tick) DO UPDATE SET last_tick = excluded.last_tick, start_value = excluded.start_value, step = excluded.step
        """
    private static let updateRuns = """
        UPDATE metric_run AS m SET last_tick = u.last_tick, start_value = u.start_value, step = u.step FROM \(rowsOfArrays)
        WHERE m.client = u.client AND m.metric = u.metric AND m.first_tick = u.first_tick
        """

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
