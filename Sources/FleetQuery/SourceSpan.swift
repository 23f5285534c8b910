// FleetQuery: byte spans into the query text, carried by every token, node and error.

/// A half-open range of UTF-8 byte offsets into the query text.
public struct SourceSpan: Hashable, Sendable, CustomStringConvertible {
    public var start: Int
    public var end: Int
    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }
    /// The smallest span covering both.
    public func union(_ other: SourceSpan) -> SourceSpan {
        SourceSpan(start: min(start, other.start), end: max(end, other.end))
    }
    public var description: String { "\(start)..<\(end)" }
}
