// FleetPostgres: PostgreSQL array literals in text form (`{"a","b",NULL}`, `{1,2,NULL}`),
// for a whole batch of values bound as ONE parameter (`unnest(?::text[])`, `= ANY(?::bigint[])`).
// The values stay parameters: a literal is a parameter's text, never part of the SQL.
//
// Text elements are always double-quoted, with `"` and `\` escaped by a backslash, so braces,
// commas, spaces, the word NULL, the empty string and any non-ASCII text read back exactly;
// a missing value (nil) is the unquoted NULL. A NUL byte cannot be sent in a text parameter
// at all (the connection refuses it, as it refuses it in any other parameter).

/// The text of PostgreSQL one-dimensional array literals, written as bytes (an evaluation tick
/// at a million things builds arrays of 25,000 ids and values; appending each element's
/// String to a String was a fifth of its CPU time).
public enum PostgresArray {
    /// `{"a","b\"c",NULL}`: text elements, nil as NULL.
    @inlinable public static func literal(_ elements: some Collection<String?>) -> String {
        build(elements, 16) { e, out in if let e { appendQuoted(e, to: &out) } else { out.append(contentsOf: null) } }
    }

    /// `{"a","b"}`: text elements, none missing.
    @inlinable public static func literal(_ elements: some Collection<String>) -> String {
        build(elements, 16) { e, out in appendQuoted(e, to: &out) }
    }

    /// `{1,-2,NULL}`: bigint elements, nil as NULL.
    @inlinable public static func literal(_ elements: some Collection<Int64?>) -> String {
        build(elements, 12) { e, out in if let e { appendDecimal(e, to: &out) } else { out.append(contentsOf: null) } }
    }

    /// `{1,-2}`: bigint elements, none missing.
    @inlinable public static func literal(_ elements: some Collection<Int64>) -> String {
        build(elements, 12) { e, out in appendDecimal(e, to: &out) }
    }

    /// `{t,f,NULL}`: boolean elements, nil as NULL.
    @inlinable public static func literal(_ elements: some Collection<Bool?>) -> String {
        build(elements, 2) { e, out in
            if let e { out.append(e ? UInt8(ascii: "t") : UInt8(ascii: "f")) } else { out.append(contentsOf: null) }
        }
    }

    /// `{t,f}`: boolean elements, none missing.
    @inlinable public static func literal(_ elements: some Collection<Bool>) -> String {
        build(elements, 2) { e, out in out.append(e ? UInt8(ascii: "t") : UInt8(ascii: "f")) }
    }

    /// `{0.1,NaN,-Infinity,NULL}`: double precision elements (each as Swift writes it, which
    /// reads back exactly), nil as NULL.
    @inlinable public static func literal(_ elements: some Collection<Double?>) -> String {
        build(elements, 12) { e, out in
            if let e { out.append(contentsOf: PostgresValue.doubleText(e).utf8) } else { out.append(contentsOf: null) }
        }
    }

    /// `{` elements, each written by `write`, separated by commas, `}`.
    @inlinable static func build<C: Collection>(_ elements: C, _ perElement: Int, _ write: (C.Element, inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(2 + elements.count * perElement)
        out.append(UInt8(ascii: "{"))
        var first = true
        for e in elements {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            write(e, &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `"…"` with `"` and `\` escaped by a backslash.
    @usableFromInline static func appendQuoted(_ e: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in e.utf8 {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(b)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The decimal digits of `v`, with a minus sign when negative (Int64.min included).
    @usableFromInline static func appendDecimal(_ v: Int64, to out: inout [UInt8]) {
        if v < 0 { out.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(m % 10))
            m /= 10
        } while m > 0
        out[start...].reverse()
    }

    @usableFromInline static let null = Array("NULL".utf8)
}
