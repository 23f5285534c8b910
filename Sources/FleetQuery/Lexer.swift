// FleetQuery, stage 1: UTF-8 bytes to tokens. Any byte string gives tokens or a
// positioned error; it never traps.

/// Splits a query into tokens.
public enum Lexer {
    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    private static func isDelimiter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: ":"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["),
             UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "\""),
             UInt8(ascii: "<"), UInt8(ascii: ">"):
            return true
        default:
            return isSpace(b)
        }
    }

    /// The longest query accepted, in UTF-8 bytes. AWS sets none (botocore's `QueryString` has
    /// `min: 1` and no `max`; AWS caps a query at 12 terms instead). 16 KiB is far beyond any
    /// query written by hand and keeps each later stage small: no value can then reach
    /// SQLite's 50,000-byte GLOB pattern limit, and the Binder's term and nesting limits are
    /// what bound the SQL.
    public static let maxQueryBytes = 16_384

    /// The tokens of `source`, ending with `.end`.
    public static func tokens(in source: String) throws(QueryError) -> [Token] {
        let bytes = Array(source.utf8)
        guard bytes.count <= maxQueryBytes else {
            throw QueryError(phase: .lex, message: "the query is \(bytes.count) bytes long; at most \(maxQueryBytes) are allowed",
                             span: SourceSpan(start: maxQueryBytes, end: bytes.count))
        }
        var out: [Token] = []
        var i = 0
        func text(_ a: Int, _ b: Int) -> String { String(decoding: bytes[a..<b], as: UTF8.self) }
        func add(_ k: Token.Kind, _ a: Int, _ b: Int) {
            out.append(Token(kind: k, span: SourceSpan(start: a, end: b), raw: text(a, b)))
        }
        while i < bytes.count {
            let b = bytes[i]
            if isSpace(b) { i += 1; continue }
            let start = i
            switch b {
            case UInt8(ascii: ":"): add(.colon, i, i + 1); i += 1
            case UInt8(ascii: "("): add(.lparen, i, i + 1); i += 1
            case UInt8(ascii: ")"): add(.rparen, i, i + 1); i += 1
            case UInt8(ascii: "["): add(.lbracket, i, i + 1); i += 1
            case UInt8(ascii: "]"): add(.rbracket, i, i + 1); i += 1
            case UInt8(ascii: "{"): add(.lbrace, i, i + 1); i += 1
            case UInt8(ascii: "}"): add(.rbrace, i, i + 1); i += 1
            case UInt8(ascii: ">"), UInt8(ascii: "<"):
                let eq = i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "=")
                let k: Token.Kind = b == UInt8(ascii: ">") ? (eq ? .ge : .gt) : (eq ? .le : .lt)
                add(k, i, eq ? i + 2 : i + 1)
                i += eq ? 2 : 1
            case UInt8(ascii: "\""):
                i += 1
                var value: [UInt8] = []
                var closed = false
                while i < bytes.count {
                    if bytes[i] == UInt8(ascii: "\\") && i + 1 < bytes.count {
                        value.append(bytes[i + 1]); i += 2; continue
                    }
                    if bytes[i] == UInt8(ascii: "\"") { closed = true; i += 1; break }
                    value.append(bytes[i]); i += 1
                }
                guard closed else {
                    throw QueryError(phase: .lex, message: "unterminated quoted value: add a closing '\"'",
                                     span: SourceSpan(start: start, end: bytes.count))
                }
                add(.phrase(String(decoding: value, as: UTF8.self)), start, i)
            case UInt8(ascii: "-") where i + 1 >= bytes.count || isSpace(bytes[i + 1])
                || bytes[i + 1] == UInt8(ascii: "(") || bytes[i + 1] == UInt8(ascii: "\""):
                add(.minus, i, i + 1); i += 1
            default:
                var value: [UInt8] = []
                var pattern: [UInt8] = []
                var wild = false
                while i < bytes.count && !isDelimiter(bytes[i]) {
                    var c = bytes[i]
                    if c == UInt8(ascii: "\\") {
                        guard i + 1 < bytes.count else {
                            throw QueryError(phase: .lex, message: "a backslash must be followed by the character it escapes",
                                             span: SourceSpan(start: i, end: i + 1))
                        }
                        c = bytes[i + 1]
                        i += 2
                        value.append(c)
                        pattern += escapeGlob(c)
                        continue
                    }
                    if c == UInt8(ascii: "*") || c == UInt8(ascii: "?") {
                        wild = true
                        pattern.append(c)
                    } else {
                        pattern += escapeGlob(c)
                    }
                    value.append(c)
                    i += 1
                }
                let word = String(decoding: value, as: UTF8.self)
                let raw = text(start, i)
                let kind: Token.Kind
                switch raw {
                case "AND", "&&": kind = .and
                case "OR", "||": kind = .or
                case "NOT": kind = .not
                case "TO": kind = .to
                default: kind = .word(text: word, pattern: wild ? String(decoding: pattern, as: UTF8.self) : nil)
                }
                add(kind, start, i)
            }
        }
        add(.end, bytes.count, bytes.count)
        return out
    }

    /// A literal byte as it must appear in a GLOB pattern.
    static func escapeGlob(_ c: UInt8) -> [UInt8] {
        switch c {
        case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["):
            return [UInt8(ascii: "["), c, UInt8(ascii: "]")]
        default:
            return [c]
        }
    }

    /// `text` as a GLOB pattern matching itself literally.
    public static func literalGlob(_ text: String) -> String {
        String(decoding: text.utf8.flatMap { escapeGlob($0) }, as: UTF8.self)
    }
}
