// FleetServer console: HTML built in Swift with one escaping function. A string
// interpolated into an `HTML` literal is escaped; only another `HTML` value goes in as it
// is, so a value from the database can never become markup by being forgotten.

import Foundation

/// A fragment of HTML.
public struct HTML: ExpressibleByStringInterpolation, Sendable, Equatable, CustomStringConvertible {
    public private(set) var text: String

    /// Markup written by the console itself (never a value from a request or the database).
    public init(raw: String) { text = raw }
    public init(stringLiteral value: String) { text = value }
    public init(stringInterpolation: StringInterpolation) { text = stringInterpolation.text }
    public var description: String { text }

    public static let empty = HTML(raw: "")

    /// A value as HTML text or a quoted attribute value (`Markup.escape`).
    public static func escape(_ s: String) -> String { Markup.escape(s) }

    public static func + (a: HTML, b: HTML) -> HTML { HTML(raw: a.text + b.text) }
    public static func += (a: inout HTML, b: HTML) { a.text += b.text }

    /// Fragments one after another.
    public static func join(_ parts: [HTML], separator: HTML = .empty) -> HTML {
        HTML(raw: parts.map(\.text).joined(separator: separator.text))
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var text = ""
        public init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity + interpolationCount * 16) }
        public mutating func appendLiteral(_ literal: String) { text += literal }
        /// A value: escaped.
        public mutating func appendInterpolation(_ value: String) { text += HTML.escape(value) }
        public mutating func appendInterpolation(_ value: Substring) { text += HTML.escape(String(value)) }
        public mutating func appendInterpolation(_ value: String?) { text += HTML.escape(value ?? "") }
        public mutating func appendInterpolation(_ value: Int) { text += String(value) }
        public mutating func appendInterpolation(_ value: Int64) { text += String(value) }
        /// A number for SVG coordinates: at most two decimals.
        public mutating func appendInterpolation(_ value: Double) { text += HTML.number(value) }
        /// Markup: as it is.
        public mutating func appendInterpolation(_ value: HTML) { text += value.text }
        public mutating func appendInterpolation(_ values: [HTML]) { for v in values { text += v.text } }
    }

    /// `12`, `12.5`, `0.33`: a coordinate or a value, short.
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let r = (v * 100).rounded() / 100
        if r == r.rounded() && abs(r) < 1e15 { return String(Int64(r)) }
        var s = String(format: "%.2f", r)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}
