// FleetPostgres: PostgreSQL array literals in text form (`{"a","b",NULL}`, `{1,2,NULL}`),
// for a whole batch of values bound as ONE parameter (`unnest(?::text[])`, `= ANY(?::bigint[])`).
// The values stay parameters: a literal is a parameter's text, never part of the SQL.
//
// Text elements are always double-quoted, with `"` and `\` escaped by a backslash, so braces,
// commas, spaces, the word NULL, the empty string and any non-ASCII text read back exactly;
// a missing value (nil) is the unquoted NULL. A NUL byte cannot be sent in a text parameter
// at all (the connection refuses it, as it refuses it in any other parameter).

/// The text of PostgreSQL one-dimensional array literals.
public enum PostgresArray {
    /// `{"a","b\"c",NULL}`: text elements, nil as NULL.
    public static func literal(_ elements: some Collection<String?>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(2 + elements.count * 16)
        out.append(UInt8(ascii: "{"))
        var first = true
        for e in elements {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            guard let e else {
                out.append(contentsOf: null)
                continue
            }
            out.append(UInt8(ascii: "\""))
            for b in e.utf8 {
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(b)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `{"a","b"}`: text elements, none missing.
    public static func literal(_ elements: some Collection<String>) -> String {
        literal(elements.lazy.map { Optional($0) })
    }

    /// `{1,-2,NULL}`: bigint elements, nil as NULL.
    public static func literal(_ elements: some Collection<Int64?>) -> String {
        unquoted(elements) { String($0) }
    }

    /// `{1,-2}`: bigint elements, none missing.
    public static func literal(_ elements: some Collection<Int64>) -> String {
        literal(elements.lazy.map { Optional($0) })
    }

    /// `{t,f,NULL}`: boolean elements, nil as NULL.
    public static func literal(_ elements: some Collection<Bool?>) -> String {
        unquoted(elements) { $0 ? "t" : "f" }
    }

    /// `{t,f}`: boolean elements, none missing.
    public static func literal(_ elements: some Collection<Bool>) -> String {
        literal(elements.lazy.map { Optional($0) })
    }

    /// `{0.1,NaN,-Infinity,NULL}`: double precision elements (each as Swift writes it, which
    /// reads back exactly), nil as NULL.
    public static func literal(_ elements: some Collection<Double?>) -> String {
        unquoted(elements, PostgresValue.doubleText)
    }

    /// Elements whose text needs no quotes (numbers, booleans), nil as NULL.
    private static func unquoted<T>(_ elements: some Collection<T?>, _ text: (T) -> String) -> String {
        var out = "{"
        out.reserveCapacity(2 + elements.count * 8)
        var first = true
        for e in elements {
            if !first { out += "," }
            first = false
            out += e.map(text) ?? "NULL"
        }
        return out + "}"
    }

    private static let null = Array("NULL".utf8)
}
