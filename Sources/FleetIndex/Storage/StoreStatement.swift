// FleetIndex storage: a statement a store prepares once and runs many times (the bulk paths:
// import, ingest, the evaluation cycle's slots). On SQLite it is a prepared sqlite3_stmt; on
// PostgreSQL the connection prepares each text once (PQprepare) and a step reads the result.
import FleetPostgres
import FleetSQLite
import FleetStorage

/// A prepared statement of a store: `bind`, then `step` until false, reading `row` between.
final class StoreStatement {
    private enum Engine {
        case sqlite(Statement)
        case postgres(PostgresConnection, text: String)
    }
    private let engine: Engine
    private unowned let connection: StoreConnection
    private var binds: [SQLiteValue] = []
    private var result: PostgresRows?
    private var index = -1

    init(_ sql: String, on connection: StoreConnection) throws {
        self.connection = connection
        switch connection.engine {
        case .sqlite(let c): engine = .sqlite(try c.prepare(sql))
        case .postgres(let c): engine = .postgres(c, text: connection.statementText(sql))
        }
    }

    /// Resets the statement and binds `values` to its parameters, in order.
    func bind(_ values: [SQLiteValue]) throws {
        switch engine {
        case .sqlite(let s): try s.bind(values)
        case .postgres:
            binds = values
            result = nil
            index = -1
        }
    }

    /// Advances to the next row: true while a row is available (the first step runs it).
    @discardableResult
    func step() throws -> Bool {
        switch engine {
        case .sqlite(let s): return try s.step()
        case .postgres(let c, let text):
            if result == nil {
                let rows = try c.query(text, StoreConnection.postgres(binds))
                connection.noteChanges(rows.affected)
                result = rows
            }
            index += 1
            return index < result!.count
        }
    }

    /// Ends the current run (its rows are released).
    func reset() {
        switch engine {
        case .sqlite(let s): s.reset()
        case .postgres:
            result = nil
            index = -1
        }
    }

    /// The current row (after a `step` that returned true).
    var row: StoreRow {
        switch engine {
        case .sqlite(let s): StoreRow(source: .sqlite(s))
        case .postgres: StoreRow(source: .postgres(result![index]))
        }
    }
}

extension StoreConnection {
    /// A statement prepared once (SQLite's are cached by text on the connection).
    func prepare(_ sql: String) throws -> StoreStatement { try StoreStatement(sql, on: self) }
}
