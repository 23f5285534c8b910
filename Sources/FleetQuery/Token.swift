// FleetQuery: the tokens the Lexer produces.

/// One token of a query, with its span.
public struct Token: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// Unquoted text: a field path, a value or a bare term. `text` is unescaped;
        /// `pattern` is non-nil when the word has unescaped `*` or `?` (a GLOB pattern
        /// with literal `*`, `?`, `[` escaped as `[*]`, `[?]`, `[[]`).
        case word(text: String, pattern: String?)
        /// Double-quoted text, unescaped; wildcards inside are literal.
        case phrase(String)
        case colon, lparen, rparen, lbracket, rbracket, lbrace, rbrace
        case gt, ge, lt, le
        case and, or, not, to
        /// A `-` standing before a clause or `(`: NOT.
        case minus
        case end
    }
    public var kind: Kind
    public var span: SourceSpan
    /// The raw source text of the token.
    public var raw: String

    public init(kind: Kind, span: SourceSpan, raw: String) {
        self.kind = kind
        self.span = span
        self.raw = raw
    }
}
