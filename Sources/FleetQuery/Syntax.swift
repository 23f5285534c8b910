// FleetQuery: the syntax tree the Parser produces. It knows no schema: field paths are
// still text, values still untyped.

/// A value as written: unescaped text, a GLOB pattern when it has wildcards, and whether
/// it was quoted (a quoted value is always text).
public struct QueryValue: Equatable, Sendable {
    public var text: String
    public var pattern: String?
    public var quoted: Bool
    public var span: SourceSpan
    public init(text: String, pattern: String? = nil, quoted: Bool = false, span: SourceSpan) {
        self.text = text
        self.pattern = pattern
        self.quoted = quoted
        self.span = span
    }
}

/// A dotted field path, each segment with its own span.
public struct FieldPath: Equatable, Sendable {
    public var segments: [String]
    public var spans: [SourceSpan]
    public var text: String { segments.joined(separator: ".") }
    public var span: SourceSpan { (spans.first ?? SourceSpan(start: 0, end: 0)).union(spans.last ?? SourceSpan(start: 0, end: 0)) }
}

public enum CompareOp: String, Equatable, Sendable { case gt = ">", ge = ">=", lt = "<", le = "<=" }

public struct RangeBound: Equatable, Sendable {
    public var value: QueryValue
    public var inclusive: Bool
}

/// What a clause asks of its field.
public enum SyntaxTest: Equatable, Sendable {
    case equals(QueryValue)
    case exists
    case compare(CompareOp, QueryValue)
    /// A nil bound is open (`*`).
    case range(lower: RangeBound?, upper: RangeBound?)
}

/// The parsed query.
public indirect enum Syntax: Equatable, Sendable {
    case and([Syntax], SourceSpan)
    case or([Syntax], SourceSpan)
    case not(Syntax, SourceSpan)
    /// `field` nil: a bare term, matched against every indexed text field.
    case term(field: FieldPath?, test: SyntaxTest, span: SourceSpan)

    public var span: SourceSpan {
        switch self {
        case .and(_, let s), .or(_, let s), .not(_, let s), .term(_, _, let s): s
        }
    }

    /// Canonical s-expression, without spans (used by tests and `--explain`).
    public var sexpr: String {
        switch self {
        case .and(let xs, _): "(and " + xs.map(\.sexpr).joined(separator: " ") + ")"
        case .or(let xs, _): "(or " + xs.map(\.sexpr).joined(separator: " ") + ")"
        case .not(let x, _): "(not " + x.sexpr + ")"
        case .term(let f, let t, _): "(term " + (f?.text ?? "*") + " " + t.sexpr + ")"
        }
    }

    /// The query written back as text; parsing it gives the same tree (round trip), as the
    /// fuzzer checks for every query it parses.
    public var queryText: String {
        switch self {
        case .and(let xs, _): "(" + xs.map(\.queryText).joined(separator: " AND ") + ")"
        case .or(let xs, _): "(" + xs.map(\.queryText).joined(separator: " OR ") + ")"
        case .not(let x, _): "NOT " + x.queryText
        case .term(let f, let t, _):
            switch t {
            case .exists: (f.map { $0.written + ":" } ?? "") + "*"
            case .equals(let v): (f.map { $0.written + ":" } ?? "") + v.written
            // Spaced: a value may start with '=' (`a > =x`, not `a>=x`).
            case .compare(let op, let v): (f?.written ?? "") + " " + op.rawValue + " " + v.written
            case .range(let lo, let hi):
                (f?.written ?? "") + ":" + (lo?.inclusive ?? true ? "[" : "{") + (lo?.value.written ?? "*")
                    + " TO " + (hi?.value.written ?? "*") + (hi?.inclusive ?? true ? "]" : "}")
            }
        }
    }
}

/// Writing text back as one unquoted word of the query language.
enum Written {
    /// What ends or changes a word: the Lexer's delimiters, white space and the backslash.
    static func special(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case " ", "\t", "\n", "\r", ":", "(", ")", "[", "]", "{", "}", "\"", "<", ">", "\\": true
        default: false
        }
    }

    /// `out` made safe as a whole word: an operator keyword or a leading '-' (NOT) escaped.
    static func word(_ out: String) -> String {
        if ["AND", "OR", "NOT", "TO", "&&", "||"].contains(out) || out.utf8.first == UInt8(ascii: "-") { return "\\" + out }
        return out
    }

    /// Text escaped scalar by scalar (not by Character: a combining mark after a backslash
    /// must not hide it); `wildcards` also escapes `*` and `?`.
    static func escaped(_ text: String, wildcards: Bool) -> String {
        var out = String.UnicodeScalarView()
        for c in text.unicodeScalars {
            if special(c) || wildcards && (c == "*" || c == "?") { out.append("\\") }
            out.append(c)
        }
        return String(out)
    }
}

extension FieldPath {
    /// The path as it would be typed: `*` stays (a segment wildcard is the text `*`).
    public var written: String {
        Written.word(segments.map { Written.escaped($0, wildcards: false) }.joined(separator: "."))
    }
}

extension QueryValue {
    /// The value as it would be typed in a query: quoted values stay quoted, unquoted ones
    /// escape their special characters with a backslash.
    public var written: String {
        if quoted {
            var out = String.UnicodeScalarView(["\""])
            for c in text.unicodeScalars {
                if c == "\\" || c == "\"" { out.append("\\") }
                out.append(c)
            }
            out.append("\"")
            return String(out)
        }
        guard let pattern else { return Written.word(Written.escaped(text, wildcards: true)) }
        // The GLOB pattern: `[c]` is a literal c, a bare `*` or `?` a wildcard.
        var out = String.UnicodeScalarView()
        var it = pattern.unicodeScalars.makeIterator()
        while let c = it.next() {
            if c == "[", let lit = it.next() {
                _ = it.next()
                out.append("\\")
                out.append(lit)
            } else {
                if Written.special(c) { out.append("\\") }
                out.append(c)
            }
        }
        return Written.word(String(out))
    }
}

extension SyntaxTest {
    public var sexpr: String {
        switch self {
        case .exists: "exists"
        case .equals(let v): v.sexpr
        case .compare(let op, let v): "(\(op.rawValue) \(v.sexpr))"
        case .range(let lo, let hi):
            "(range " + (lo.map { ($0.inclusive ? "[" : "{") + $0.value.sexpr } ?? "*") + " "
                + (hi.map { $0.value.sexpr + ($0.inclusive ? "]" : "}") } ?? "*") + ")"
        }
    }
}

extension QueryValue {
    public var sexpr: String {
        if let pattern { return "(wild \"\(pattern)\")" }
        return quoted ? "\"\(text)\"" : text
    }
}

extension String {
    func replacingAll(_ a: String, with b: String) -> String {
        guard !a.isEmpty else { return self }
        return self.split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
