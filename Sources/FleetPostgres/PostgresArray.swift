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
        var out = "{"
        out.reserveCapacity(2 + elements.count * 14)
        var first = true
        for e in elements {
            if !first { out += "," }
            first = false
            if let e { out += String(e) } else { out += "NULL" }
        }
        return out + "}"
    }

    /// `{1,-2}`: bigint elements, none missing.
    public static func literal(_ elements: some Collection<Int64>) -> String {
        literal(elements.lazy.map { Optional($0) })
    }

    /// `{t,f,NULL}`: boolean elements, nil as NULL.
    public static func literal(_ elements: some Collection<Bool?>) -> String {
        var out = "{"
        out.reserveCapacity(2 + elements.count * 2)
        var first = true
        for e in elements {
            if !first { out += "," }
            first = false
            out += e.map { $0 ? "t" : "f" } ?? "NULL"
        }
        return out + "}"
    }

    /// `{t,f}`: boolean elements, none missing.
    public static func literal(_ elements: some Collection<Bool>) -> String {
        literal(elements.lazy.map { Optional($0) })
    }

    /// `{0.1,NaN,-Infinity,NULL}`: double precision elements (each as Swift writes it, which
    /// reads back exactly), nil as NULL.
    public static func literal(_ elements: some Collection<Double?>) -> String {
        "{" + elements.map { $0.map(PostgresValue.doubleText) ?? "NULL" }.joined(separator: ",") + "}"
    }

    private static let null = Array("NULL".utf8)
}
