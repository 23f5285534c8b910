// FleetPostgres: the rows of one result, read in PostgreSQL's text format.
import CLibPQ

/// A result set. Rows are read by index (`rows[i].int(0)`) or by column name.
public final class PostgresRows: RandomAccessCollection {
    let result: OpaquePointer
    public let count: Int
    public let columns: [String]

    init(_ result: OpaquePointer) {
        self.result = result
        count = Int(fxpq_ntuples(result))
        columns = (0..<fxpq_nfields(result)).map { String(cString: fxpq_fname(result, $0)) }
    }

    deinit { fxpq_clear(result) }

    /// Rows changed by an INSERT, UPDATE or DELETE (0 otherwise).
    public var affected: Int { Int(String(cString: fxpq_cmdTuples(result))) ?? 0 }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(_ i: Int) -> PostgresRow { PostgresRow(rows: self, index: Int32(i)) }

    /// The index of the column `name`.
    public func column(_ name: String) -> Int? { columns.firstIndex(of: name) }
}

/// One row of a result.
public struct PostgresRow {
    let rows: PostgresRows
    let index: Int32

    public var columnCount: Int { rows.columns.count }

    public func isNull(_ c: Int) -> Bool { fxpq_getisnull(rows.result, index, Int32(c)) == 1 }

    public func text(_ c: Int) -> String {
        guard let p = fxpq_getvalue(rows.result, index, Int32(c)) else { return "" }
        return String(cString: p)
    }

    public func optionalText(_ c: Int) -> String? { isNull(c) ? nil : text(c) }
    public func int(_ c: Int) -> Int64 { integer(c) ?? Int64(text(c)) ?? 0 }

    /// The column's text read as a decimal integer straight from libpq's buffer, without
    /// making a String (a tick at a million things reads about 100,000 rows of integers); nil
    /// when the text is not an optional minus and digits, or overflows (a NULL cell, whose
    /// text libpq gives as empty, too).
    public func integer(_ c: Int) -> Int64? {
        guard let p = fxpq_getvalue(rows.result, index, Int32(c)) else { return nil }
        return Self.decimal(UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self))
    }

    /// The integer of a NUL-terminated `-?[0-9]+` (accumulated negatively, so Int64.min reads).
    static func decimal(_ p: UnsafePointer<UInt8>) -> Int64? {
        var i = 0
        let negative = p[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        guard p[i] != 0 else { return nil }
        var v: Int64 = 0
        while p[i] != 0 {
            let d = Int64(p[i]) &- 48
            guard d >= 0, d <= 9 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (n, o2) = m.subtractingReportingOverflow(d)
            if o1 || o2 { return nil }
            v = n
            i += 1
        }
        if negative { return v }
        let (r, o) = Int64(0).subtractingReportingOverflow(v)
        return o ? nil : r
    }
    public func optionalInt(_ c: Int) -> Int64? { isNull(c) ? nil : int(c) }
    public func double(_ c: Int) -> Double { Double(text(c)) ?? 0 }
    public func optionalDouble(_ c: Int) -> Double? { isNull(c) ? nil : double(c) }
    /// A boolean column (`t`/`f`).
    public func bool(_ c: Int) -> Bool {
        guard let p = fxpq_getvalue(rows.result, index, Int32(c)) else { return false }
        return p[0] == CChar(UInt8(ascii: "t")) && p[1] == 0
    }

    public func text(_ name: String) -> String { rows.column(name).map(text) ?? "" }
    public func int(_ name: String) -> Int64 { rows.column(name).map(int) ?? 0 }
}

/// How a column's text is read, by its type (`PQftype`).
public enum PostgresColumnKind: Sendable {
    case integer, real, boolean, text
}

extension PostgresRows {
    /// The kind of column `c` (int2/int4/int8 integer; float4/float8/numeric real; bool).
    public func kind(_ c: Int) -> PostgresColumnKind {
        switch fxpq_ftype(result, Int32(c)) {
        case 20, 21, 23: .integer
        case 700, 701, 1700: .real
        case 16: .boolean
        default: .text
        }
    }
}

extension PostgresRow {
    public func kind(_ c: Int) -> PostgresColumnKind { rows.kind(c) }
}
