// FleetQuery, stage 2: tokens to a syntax tree by recursive descent. Precedence
// NOT > AND > OR; adjacent clauses are joined by an implicit AND; `field:(a OR b)` is
// expanded into clauses on that field.

/// Parses fleet index queries.
///
/// For example, `try Parser.parse("a:1 OR b:2 c:3").sexpr` is
/// `(or (term a 1) (and (term b 2) (term c 3)))`.
///
/// The descent recurses only into parentheses: NOT, `-` and runs of operands are loops.
/// Nesting is counted and capped at `maxDepth`, so any input parses in bounded stack, and
/// every token is read once (a `-word` is split without re-reading the rest of the query).
public struct Parser {
    /// The deepest nesting of `(`, `field:(`, NOT and `-` the parser accepts (each counts one
    /// level). A level is four small frames of the descent (or → and → unary → group): 32
    /// levels take under 230 KB of stack in a debug build (measured), less than half of a
    /// 512 KB thread's, and QueryLimitTests parses the deepest accepted queries on such a
    /// thread. The Binder allows less nesting in the tree it binds (`Binder.maxNesting`, 16,
    /// for SQLite's parser): this limit is for the parser's own stack.
    public static let maxDepth = 32

    private var tokens: [Token]
    private var pos = 0
    /// Tokens split off a `-word` (the word after its leading dashes), read before
    /// `tokens[pos]`; the last element is the next token.
    private var pending: [Token] = []
    /// The nesting level being parsed (see `maxDepth`).
    private var depth = 0

    private init(tokens: [Token]) { self.tokens = tokens }

    /// Parses a whole query.
    public static func parse(_ source: String) throws(QueryError) -> Syntax {
        var p = Parser(tokens: try Lexer.tokens(in: source))
        if case .end = p.peek.kind {
            throw QueryError(phase: .parse, message: "the query is empty", span: p.peek.span)
        }
        let q = try p.parseOr(inGroup: nil)
        if case .end = p.peek.kind { return q }
        if case .rparen = p.peek.kind {
            throw p.error("unbalanced ')': no '(' to close", p.peek)
        }
        throw p.error("unexpected \(p.describe(p.peek))", p.peek)
    }

    private var peek: Token { pending.last ?? tokens[pos] }
    private mutating func next() -> Token {
        if let t = pending.popLast() { return t }
        let t = tokens[pos]
        if pos < tokens.count - 1 { pos += 1 }
        return t
    }

    /// One level deeper (restored by the caller); `at` is the token that opens the level.
    private mutating func enter(_ at: SourceSpan) throws(QueryError) {
        depth += 1
        guard depth <= Parser.maxDepth else {
            throw QueryError(phase: .parse, message: "parentheses and NOT nest more than \(Parser.maxDepth) levels deep: simplify the query", span: at)
        }
    }

    private func error(_ message: String, _ t: Token) -> QueryError {
        QueryError(phase: .parse, message: message, span: t.span.start == t.span.end
                   ? SourceSpan(start: t.span.start, end: t.span.end) : t.span)
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .end: "end of query"
        case .word(let s, _): "'\(s)'"
        case .phrase: "a quoted value"
        default: "'\(t.raw)'"
        }
    }

    /// True when the token can start a clause (so an implicit AND applies).
    private func startsClause(_ t: Token) -> Bool {
        switch t.kind {
        case .word, .phrase, .lparen, .not, .minus: true
        default: false
        }
    }

    // The recursive path (or → and → unary → group → or) is kept to small functions: in a
    // debug build every local and temporary has its own stack slot, and the large ones
    // (terms, values, messages) live in parsePrimary and the error helpers, which do not
    // recurse.

    // or := and (OR and)*
    private mutating func parseOr(inGroup field: FieldPath?) throws(QueryError) -> Syntax {
        var items = [try parseAnd(inGroup: field)]
        while case .or = peek.kind {
            let op = next()
            guard startsClause(peek) else { throw missingClause(after: op) }
            items.append(try parseAnd(inGroup: field))
        }
        return items.count == 1 ? items[0] : .or(items, items[0].span.union(items.last!.span))
    }

    // and := unary ((AND)? unary)*
    private mutating func parseAnd(inGroup field: FieldPath?) throws(QueryError) -> Syntax {
        var items = [try parseUnary(inGroup: field)]
        while true {
            if case .and = peek.kind {
                let op = next()
                guard startsClause(peek) else { throw missingClause(after: op) }
                items.append(try parseUnary(inGroup: field))
            } else if startsClause(peek) {
                items.append(try parseUnary(inGroup: field))
            } else {
                break
            }
        }
        return items.count == 1 ? items[0] : .and(items, items[0].span.union(items.last!.span))
    }

    /// "expected a clause after AND/OR/NOT/-", at the next token (or the operator at the end).
    @inline(never)
    private func missingClause(after op: Token) -> QueryError {
        error("expected a clause after \(op.raw), found \(describe(peek))", peek.span.start == peek.span.end ? op : peek)
    }

    // unary := (NOT | '-') unary | primary, as a loop: the operators are collected, the
    // primary parsed, and the NOTs wrapped around it innermost first.
    private mutating func parseUnary(inGroup field: FieldPath?) throws(QueryError) -> Syntax {
        let base = depth
        defer { depth = base }
        var ops: [SourceSpan] = []
        while true {
            switch peek.kind {
            case .not, .minus:
                let op = next()
                try enter(op.span)
                ops.append(op.span)
                guard startsClause(peek) else { throw missingClause(after: op) }
                continue
            case .word:
                if try splitNegation(inGroup: field, into: &ops) { continue }
            default:
                break
            }
            break
        }
        var inner: Syntax
        if case .lparen = peek.kind { inner = try parseGroup(inGroup: field) } else { inner = try parsePrimary(inGroup: field) }
        for op in ops.reversed() { inner = .not(inner, op.union(inner.span)) }
        return inner
    }

    /// `( or )`: one level deeper.
    private mutating func parseGroup(inGroup field: FieldPath?) throws(QueryError) -> Syntax {
        let open = next()
        if case .rparen = peek.kind { throw emptyGroup() }
        try enter(open.span)
        let inner = try parseOr(inGroup: field)
        depth -= 1
        guard case .rparen = peek.kind else { throw unclosed(open) }
        _ = next()
        return inner
    }

    @inline(never)
    private func emptyGroup() -> QueryError { error("empty parentheses: expected a clause", peek) }

    @inline(never)
    private func unclosed(_ open: Token) -> QueryError {
        error("expected ')' to close the '(' at offset \(open.span.start), found \(describe(peek))", peek)
    }

    /// `-clause`: each leading minus of a word is a NOT (a negative number inside a value group
    /// is a value). The dashes are counted here (one level each, appended to `ops`) and the
    /// rest of the word is lexed once, so a run of n dashes costs O(n), not O(n²). False when
    /// the next token is no such word.
    @inline(never)
    private mutating func splitNegation(inGroup field: FieldPath?, into ops: inout [SourceSpan]) throws(QueryError) -> Bool {
        let t = peek
        guard case .word(let text, _) = t.kind, Parser.negates(t, text: text, inGroup: field != nil) else { return false }
        _ = next()
        let raw = Array(t.raw.utf8)
        let textBytes = Array(text.utf8)  // the dashes are unescaped, so both start with them
        var k = 0
        repeat {
            let dash = SourceSpan(start: t.span.start + k, end: t.span.start + k + 1)
            try enter(dash)
            ops.append(dash)
            k += 1
        } while k + 1 < raw.count && raw[k] == UInt8(ascii: "-")
            && !(field != nil && raw[k + 1] != UInt8(ascii: "-")
                 && Double(String(decoding: textBytes[k...], as: UTF8.self)) != nil)
        let rest = try Parser.parse(fragment: String(decoding: raw[k...], as: UTF8.self), offset: t.span.start + k)
        pending.append(contentsOf: rest.reversed())
        return true
    }

    /// Whether a word is `-clause`: it starts with an unescaped `-` and has more after it,
    /// and is not a negative number inside a value group (`field:(-2 OR -1)`).
    private static func negates(_ t: Token, text: String, inGroup: Bool) -> Bool {
        let raw = t.raw.utf8
        guard raw.first == UInt8(ascii: "-"), raw.count > 1 else { return false }
        return !(inGroup && Double(text) != nil)
    }

    /// Re-lexes part of a word (after its leading dashes) with spans shifted into the query.
    private static func parse(fragment: String, offset: Int) throws(QueryError) -> [Token] {
        var ts = try Lexer.tokens(in: fragment)
        ts.removeLast()
        return ts.map { t in
            var t = t
            t.span = SourceSpan(start: t.span.start + offset, end: t.span.end + offset)
            return t
        }
    }

    private mutating func parsePrimary(inGroup field: FieldPath?) throws(QueryError) -> Syntax {
        let t = peek
        switch t.kind {
        case .phrase(let s):
            _ = next()
            let v = QueryValue(text: s, quoted: true, span: t.span)
            return .term(field: field, test: .equals(v), span: t.span)
        case .word(let text, let pattern):
            if let field {
                // Inside `field:( ... )`: each word is a value of that field.
                _ = next()
                let v = QueryValue(text: text, pattern: pattern, span: t.span)
                return .term(field: field, test: pattern == "*" ? .exists : .equals(v), span: t.span)
            }
            if ["and", "or", "not"].contains(text) {
                throw error("'\(text)' is not an operator: write \(text.uppercased()) in upper case (or quote the word to search for it)", t)
            }
            _ = next()
            switch peek.kind {
            case .colon:
                let path = try fieldPath(t)
                let colon = next()
                return try parseFieldValue(path, after: colon)
            case .gt, .ge, .lt, .le:
                let path = try fieldPath(t)
                let op = next()
                let cmp: CompareOp = switch op.kind {
                case .gt: .gt
                case .ge: .ge
                case .lt: .lt
                default: .le
                }
                let v = try value(after: op)
                return .term(field: path, test: .compare(cmp, v), span: t.span.union(v.span))
            default:
                let v = QueryValue(text: text, pattern: pattern, span: t.span)
                return .term(field: nil, test: pattern == "*" ? .exists : .equals(v), span: t.span)
            }
        case .colon:
            throw error("expected a field name before ':'", t)
        case .end:
            throw error("expected a clause, found end of query", t)
        case .rparen:
            throw error("expected a clause, found ')'", t)
        default:
            throw error("expected a clause, found \(describe(t))", t)
        }
    }

    private func fieldPath(_ t: Token) throws(QueryError) -> FieldPath {
        guard case .word(let text, _) = t.kind else { throw error("expected a field name", t) }
        var segments: [String] = []
        var spans: [SourceSpan] = []
        var offset = t.span.start
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            let len = part.utf8.count
            guard len > 0 else {
                throw QueryError(phase: .parse, message: "empty segment in field name '\(text)'",
                                 span: SourceSpan(start: offset, end: offset + 1))
            }
            segments.append(String(part))
            spans.append(SourceSpan(start: offset, end: offset + len))
            offset += len + 1
        }
        return FieldPath(segments: segments, spans: spans)
    }

    private mutating func value(after op: Token) throws(QueryError) -> QueryValue {
        let t = peek
        switch t.kind {
        case .word(let text, let pattern):
            _ = next()
            return QueryValue(text: text, pattern: pattern, span: t.span)
        case .phrase(let s):
            _ = next()
            return QueryValue(text: s, quoted: true, span: t.span)
        default:
            let at = t.span.start == t.span.end ? SourceSpan(start: op.span.end, end: op.span.end) : t.span
            throw QueryError(phase: .parse, message: "expected a value after '\(op.raw)', found \(describe(t))", span: at)
        }
    }

    private mutating func parseFieldValue(_ path: FieldPath, after colon: Token) throws(QueryError) -> Syntax {
        let t = peek
        switch t.kind {
        case .lparen:
            _ = next()
            if case .rparen = peek.kind { throw error("empty value group: expected a value", peek) }
            try enter(t.span)
            let inner = try parseOr(inGroup: path)
            depth -= 1
            guard case .rparen = peek.kind else {
                throw error("expected ')' to close the value group, found \(describe(peek))", peek)
            }
            _ = next()
            return inner
        case .lbracket, .lbrace:
            _ = next()
            let lo = try rangeValue(after: t)
            guard case .to = peek.kind else {
                throw error("expected TO in the range, found \(describe(peek))", peek)
            }
            let to = next()
            let hi = try rangeValue(after: to)
            let close = peek
            let inclusiveHigh: Bool
            switch close.kind {
            case .rbracket: inclusiveHigh = true
            case .rbrace: inclusiveHigh = false
            default: throw error("expected ']' or '}' to close the range, found \(describe(close))", close)
            }
            _ = next()
            let inclusiveLow = t.kind == .lbracket
            return .term(field: path, test: .range(lower: lo.map { RangeBound(value: $0, inclusive: inclusiveLow) },
                                                   upper: hi.map { RangeBound(value: $0, inclusive: inclusiveHigh) }),
                         span: path.span.union(close.span))
        case .gt, .ge, .lt, .le:
            // `field: > 5` (spaces around the sign are allowed)
            _ = next()
            let cmp: CompareOp = t.kind == .gt ? .gt : t.kind == .ge ? .ge : t.kind == .lt ? .lt : .le
            let v = try value(after: t)
            return .term(field: path, test: .compare(cmp, v), span: path.span.union(v.span))
        case .word(_, let pattern) where pattern == "*":
            _ = next()
            return .term(field: path, test: .exists, span: path.span.union(t.span))
        default:
            let v = try value(after: colon)
            return .term(field: path, test: .equals(v), span: path.span.union(v.span))
        }
    }

    /// A range bound: a value, or `*` for an open end.
    private mutating func rangeValue(after op: Token) throws(QueryError) -> QueryValue? {
        if case .word(_, let p) = peek.kind, p == "*" { _ = next(); return nil }
        if case .to = peek.kind {
            throw error("expected a value before TO", peek)
        }
        return try value(after: op)
    }
}
