// FleetQuery: the one error type of the query pipeline: a phase, a message and a span.

/// An error in a query, with the byte span of the offending text.
///
/// For example, `rendered(in: "thingName:")` gives:
///
///     error[parse]: expected a value after ':'
///       | thingName:
///       |           ^
public struct QueryError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Phase: String, Sendable { case lex, parse, bind }
    public var phase: Phase
    public var message: String
    public var span: SourceSpan

    public init(phase: Phase, message: String, span: SourceSpan) {
        self.phase = phase
        self.message = message
        self.span = span
    }

    public var description: String { "\(phase.rawValue) error at \(span): \(message)" }

    /// The message with the query and a caret under the offending text. Columns are
    /// counted in characters, so a multi-byte character before the span moves it by one.
    public func rendered(in source: String) -> String {
        let bytes = Array(source.utf8)
        let lo = min(max(span.start, 0), bytes.count)
        let hi = min(max(span.end, lo), bytes.count)
        let pad = String(decoding: bytes[..<lo], as: UTF8.self).count
        let width = max(1, String(decoding: bytes[lo..<hi], as: UTF8.self).count)
        let shown = source.map { $0 == "\n" || $0 == "\t" ? " " : $0 }
        return "error[\(phase.rawValue)]: \(message)\n  | \(String(shown))\n  | "
            + String(repeating: " ", count: pad) + String(repeating: "^", count: width)
    }
}
