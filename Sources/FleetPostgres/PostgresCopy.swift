// FleetPostgres: `COPY table(columns) FROM STDIN` in the text format, for the bulk paths (the
// importer's new things and their index rows): the rows go as data, one message stream, not as
// statements. The text format: columns split by a tab, rows ended by a newline, `\N` for NULL,
// and in a value a backslash, tab, newline, carriage return, backspace, form feed and vertical
// tab written as backslash escapes (so a value that is literally `\N` goes as `\\N`).
import CLibPQ

/// COPY's text format, encoded a field at a time.
///
/// For example:
///
///     var e = PostgresCopyEncoder()
///     try e.append(.text("a\tb")); e.append(int: 7); e.endRow()
///     // e.bytes is `a\\tb\t7\n` (the tab inside the value escaped)
public struct PostgresCopyEncoder {
    /// The encoded rows so far.
    public var bytes: [UInt8] = []
    /// Rows ended so far.
    public private(set) var rows = 0
    private var fieldsInRow = 0

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    private mutating func separate() {
        if fieldsInRow > 0 { bytes.append(0x09) }
        fieldsInRow += 1
    }

    /// NULL (`\N`).
    public mutating func appendNull() {
        separate()
        bytes.append(0x5C)
        bytes.append(UInt8(ascii: "N"))
    }

    public mutating func append(int v: Int64) {
        separate()
        if v >= 0 && v < 10 { bytes.append(0x30 + UInt8(v)); return }
        bytes.append(contentsOf: String(v).utf8)
    }

    /// A double as PostgreSQL's float8 reads it back exactly (`NaN`, `Infinity`, `-Infinity`).
    public mutating func append(double v: Double) {
        separate()
        bytes.append(contentsOf: PostgresValue.double(v).wireText!.utf8)
    }

    /// A text value, escaped; a NUL byte (which PostgreSQL text cannot hold) is an error.
    public mutating func append(text s: String) throws(PostgresError) {
        separate()
        var s = s
        let ok = s.withUTF8 { Self.escape($0, into: &bytes) }
        guard ok else {
            throw PostgresError(sqlState: "22021", message: "a COPY value contains a NUL byte, which PostgreSQL text cannot hold")
        }
    }

    /// Any parameter value, in the text form a `$n` parameter of it would have.
    public mutating func append(_ v: PostgresValue) throws(PostgresError) {
        switch v {
        case .null: appendNull()
        case .int(let i): append(int: i)
        case .double(let d): append(double: d)
        case .text(let s): try append(text: s)
        default: try append(text: v.wireText!)
        }
    }

    /// Ends the current row.
    public mutating func endRow() {
        bytes.append(0x0A)
        rows += 1
        fieldsInRow = 0
    }

    /// Appends `value`'s bytes with COPY's escapes; false when it holds a NUL byte.
    static func escape(_ value: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Bool {
        var start = 0
        for i in 0..<value.count {
            let b = value[i]
            guard b < 0x20 || b == 0x5C else { continue }
            let escaped: UInt8
            switch b {
            case 0x5C: escaped = 0x5C                  // \\
            case 0x0A: escaped = UInt8(ascii: "n")
            case 0x0D: escaped = UInt8(ascii: "r")
            case 0x09: escaped = UInt8(ascii: "t")
            case 0x08: escaped = UInt8(ascii: "b")
            case 0x0C: escaped = UInt8(ascii: "f")
            case 0x0B: escaped = UInt8(ascii: "v")
            case 0x00: return false
            default: continue                         // other control bytes go as they are
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: value[start..<i]))
            out.append(0x5C)
            out.append(escaped)
            start = i + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: value[start...]))
        return true
    }

    /// The text format of whole rows (tests, small copies).
    public static func encode(_ rows: [[PostgresValue]]) throws(PostgresError) -> [UInt8] {
        var e = PostgresCopyEncoder()
        for row in rows {
            for v in row { try e.append(v) }
            e.endRow()
        }
        return e.bytes
    }
}

/// The data of one running COPY: rows are encoded into `encoder` and sent on in pieces of
/// about 256 KiB, so the server stores the first rows while later ones are still encoded.
public final class PostgresCopyStream {
    public var encoder = PostgresCopyEncoder(capacity: 1 << 18)
    private let connection: PostgresConnection
    /// Set once sending failed (the server ended the COPY, or the connection broke).
    fileprivate var failed = false
    fileprivate var sentRows = 0

    fileprivate init(_ connection: PostgresConnection) { self.connection = connection }

    /// Ends the current row, sending what is encoded once it is large enough.
    public func endRow() {
        encoder.endRow()
        if encoder.bytes.count >= 1 << 18 { send() }
    }

    fileprivate func send() {
        guard !encoder.bytes.isEmpty else { return }
        if !failed {
            let status = encoder.bytes.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { fxpq_putCopyData(connection.handle, $0.baseAddress, Int32($0.count)) }
            }
            if status != 1 { failed = true }
        }
        encoder.bytes.removeAll(keepingCapacity: true)
    }
}

extension PostgresConnection {
    /// `COPY table(columns) FROM STDIN`: `body` encodes the rows (a field at a time into
    /// `stream.encoder`, `stream.endRow()` after each). Returns the rows the server stored.
    /// An error thrown by `body` aborts the COPY (nothing of it is stored) and is rethrown; the
    /// server's error (a constraint, a bad value) is thrown as a PostgresError. Inside a
    /// transaction either error aborts the transaction, as a failed statement does.
    @discardableResult
    public func copy(into table: String, columns: [String], _ body: (PostgresCopyStream) throws -> Void) throws -> Int {
        let sql = "COPY \(Self.identifier(table)) (\(columns.map(Self.identifier).joined(separator: ", "))) FROM STDIN"
        let start = fxpq_exec(handle, sql)
        guard fxpq_resultStatus(start) == PGRES_COPY_IN else {
            let e = error(start, sql: sql)
            fxpq_clear(start)
            throw e
        }
        fxpq_clear(start)
        let stream = PostgresCopyStream(self)
        var thrown: (any Error)? = nil
        do { try body(stream) } catch { thrown = error }
        if thrown == nil { stream.send() }
        if !stream.failed {
            let why = thrown.map { "COPY aborted by the client: \($0)" }
            let status = why.map { fxpq_putCopyEnd(handle, $0) } ?? fxpq_putCopyEnd(handle, nil)
            if status != 1 { stream.failed = true }
        }
        // The COPY's result, then NULL (the connection is idle again).
        var failure: PostgresError? = nil
        var stored = 0
        var results = 0
        while let r = fxpq_getResult(handle) {
            results += 1
            if fxpq_resultStatus(r) == PGRES_COMMAND_OK {
                stored = Int(String(cString: fxpq_cmdTuples(r))) ?? 0
            } else if failure == nil {
                failure = error(r, sql: sql)
            }
            fxpq_clear(r)
            if results > 16 { break }   // a COPY has one result; never spin on a broken connection
        }
        if let thrown { throw thrown }
        if let failure { throw failure }
        if stream.failed || results == 0 { throw error(nil, sql: sql) }
        return stored
    }

    /// `copy(into:columns:_:)` of `rows`, each written by `encode` and ended; no COPY at all
    /// for none.
    @discardableResult
    public func copy<Row>(into table: String, columns: [String], rows: some Collection<Row>,
                          _ encode: (inout PostgresCopyEncoder, Row) throws -> Void) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        return try copy(into: table, columns: columns) { stream in
            for row in rows {
                try encode(&stream.encoder, row)
                stream.endRow()
            }
        }
    }

    /// `copy(into:columns:_:)` for rows given as values (tests, small copies).
    @discardableResult
    public func copy(into table: String, columns: [String], rows: some Sequence<[PostgresValue]>) throws -> Int {
        try copy(into: table, columns: columns, rows: Array(rows)) { e, row in
            for v in row { try e.append(v) }
        }
    }

    /// A table or column name as a quoted identifier (names come from the code, never input).
    static func identifier(_ name: String) -> String {
        var out = "\""
        for ch in name { out += ch == "\"" ? "\"\"" : String(ch) }
        return out + "\""
    }
}
