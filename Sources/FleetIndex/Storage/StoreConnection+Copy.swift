// FleetIndex storage: what the bulk paths run on PostgreSQL only: statements whose parameters
// are PostgreSQL values (arrays for `unnest(?::bigint[])`, `= ANY(?::text[])`), bound as ever.
import FleetPostgres

extension StoreConnection {
    /// Calls `row` for each result row of `sql`, whose `?` are bound to PostgreSQL values.
    /// PostgreSQL only.
    func forEach(_ sql: String, postgres binds: [PostgresValue], _ row: (StoreRow) throws -> Void) throws {
        guard let c = postgres else { preconditionFailure("a PostgreSQL statement on \(dialect.name)") }
        let rows = try c.query(statementText(sql), binds)
        noteChanges(rows.affected)
        for r in rows { try row(StoreRow(source: .postgres(r))) }
    }

    /// Runs `sql`, whose `?` are bound to PostgreSQL values, discarding any rows. PostgreSQL only.
    func execute(_ sql: String, postgres binds: [PostgresValue]) throws {
        try forEach(sql, postgres: binds) { _ in }
    }
}
