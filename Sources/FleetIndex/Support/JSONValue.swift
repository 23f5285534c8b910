// FleetIndex: a JSON value that keeps object key order and number literals as written,
// with a byte-level parser (fast enough for event ingest) and the AWS CLI's printer.

/// A JSON document. Objects keep their key order; numbers keep their literal text.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    public static func int(_ v: Int64) -> JSONValue { .number(String(v)) }
    public static func int(_ v: Int) -> JSONValue { .number(String(v)) }
    public static func double(_ v: Double) -> JSONValue {
        if v == v.rounded() && abs(v) < 1e15 { return .number(String(Int64(v))) }
        return .number(String(v))
    }
    public static func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }

    public subscript(key: String) -> JSONValue? {
        if case .object(let ms) = self { return ms.first { $0.key == key }?.value }
        return nil
    }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var doubleValue: Double? { if case .number(let n) = self { return Double(n) }; return nil }
    public var int64Value: Int64? {
        if case .number(let n) = self { return Int64(n) ?? Double(n).flatMap { $0.isFinite && abs($0) < 9e18 ? Int64($0) : nil } }
        return nil
    }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [JSONMember]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { self == .null }

    /// A JSON type name for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One member of a JSON object.
public struct JSONMember: Equatable, Sendable {
    public var key: String
    public var value: JSONValue
    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// Builds an object, leaving out members whose value is nil (optional AWS fields).
public func jsonObject(_ members: [(String, JSONValue?)]) -> JSONValue {
    .object(members.compactMap { k, v in v.map { JSONMember(k, $0) } })
}

/// A JSON syntax error with its byte offset.
public struct JSONError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSONValue {
    /// Parses one JSON document (surrounding white space allowed).
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        var p = JSONParser(Array(text.utf8))
        return try p.document()
    }

    public static func parse(bytes: [UInt8]) throws(JSONError) -> JSONValue {
        var p = JSONParser(bytes)
        return try p.document()
    }
}

struct JSONParser {
    /// The deepest nesting of arrays and objects read. Parsing, printing, comparing and
    /// freeing a value all recurse once per level (about 1.7 KB of stack a level in a debug
    /// build): 128 levels fit a 512 KB thread's stack twice over (FuzzRegressionTests checks
    /// it), and no document fleetdex reads comes near it (AWS caps shadow documents at a
    /// few levels; attributes and lifecycle events are flat).
    static let maxDepth = 128

    let b: [UInt8]
    var i = 0
    init(_ b: [UInt8]) { self.b = b }

    mutating func document() throws(JSONError) -> JSONValue {
        skip()
        let v = try value(depth: 0)
        skip()
        guard i == b.count else { throw JSONError(message: "unexpected text after the JSON value", offset: i) }
        return v
    }

    mutating func skip() {
        while i < b.count && (b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09) { i += 1 }
    }

    mutating func value(depth: Int) throws(JSONError) -> JSONValue {
        guard i < b.count else { throw JSONError(message: "unexpected end of JSON", offset: i) }
        if b[i] == UInt8(ascii: "{") || b[i] == UInt8(ascii: "["), depth >= JSONParser.maxDepth {
            throw JSONError(message: "JSON nested too deeply (more than \(JSONParser.maxDepth) levels)", offset: i)
        }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [JSONMember] = []
            skip()
            if i < b.count && b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            while true {
                skip()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw JSONError(message: "expected a string key", offset: i) }
                let k = try string()
                skip()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw JSONError(message: "expected ':'", offset: i) }
                i += 1
                skip()
                let v = try value(depth: depth + 1)
                members.append(JSONMember(k, v))
                skip()
                guard i < b.count else { throw JSONError(message: "unexpected end of JSON in an object", offset: i) }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                throw JSONError(message: "expected ',' or '}'", offset: i)
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            skip()
            if i < b.count && b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                skip()
                items.append(try value(depth: depth + 1))
                skip()
                guard i < b.count else { throw JSONError(message: "unexpected end of JSON in an array", offset: i) }
                if b[i] == UInt8(ascii: ",") { i += 1; continue }
                if b[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw JSONError(message: "expected ',' or ']'", offset: i)
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null"); return .null
        default:
            return try number()
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let w = word.withUTF8Buffer { Array($0) }
        guard i + w.count <= b.count, Array(b[i..<i + w.count]) == w else {
            throw JSONError(message: "unexpected character", offset: i)
        }
        i += w.count
    }

    mutating func number() throws(JSONError) -> JSONValue {
        let start = i
        func digit() -> Bool { i < b.count && b[i] >= 48 && b[i] <= 57 }
        if i < b.count && b[i] == UInt8(ascii: "-") { i += 1 }
        guard digit() else { throw JSONError(message: "unexpected character", offset: start) }
        if b[i] == 48 { i += 1 } else { while digit() { i += 1 } }
        if i < b.count && b[i] == UInt8(ascii: ".") {
            i += 1
            guard digit() else { throw JSONError(message: "expected a digit", offset: i) }
            while digit() { i += 1 }
        }
        if i < b.count && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
            i += 1
            if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) { i += 1 }
            guard digit() else { throw JSONError(message: "expected a digit", offset: i) }
            while digit() { i += 1 }
        }
        return .number(String(decoding: b[start..<i], as: UTF8.self))
    }

    mutating func hex4() throws(JSONError) -> UInt32 {
        guard i + 4 <= b.count else { throw JSONError(message: "bad \\u escape", offset: i) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw JSONError(message: "bad \\u escape", offset: i)
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }

    mutating func string() throws(JSONError) -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < b.count && b[i] != UInt8(ascii: "\"") && b[i] != UInt8(ascii: "\\") && b[i] >= 0x20 { i += 1 }
        if i < b.count && b[i] == UInt8(ascii: "\"") {
            let s = String(decoding: b[start..<i], as: UTF8.self)
            i += 1
            return s
        }
        var out = Array(b[start..<i])
        while true {
            guard i < b.count else { throw JSONError(message: "unterminated string", offset: start - 1) }
            let c = b[i]
            if c == UInt8(ascii: "\"") { i += 1; break }
            if c < 0x20 { throw JSONError(message: "control character in a string", offset: i) }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < b.count else { throw JSONError(message: "unterminated string", offset: i) }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if code >= 0xD800 && code < 0xDC00, i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                        // A high surrogate pairs only with a low one (DC00-DFFF); before
                        // anything else it stands alone (U+FFFD) and the next escape is read
                        // on its own.
                        let pair = i
                        i += 2
                        let low = try hex4()
                        if low >= 0xDC00 && low < 0xE000 {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            i = pair
                        }
                    }
                    let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                    out += Array(String(Character(scalar)).utf8)
                default:
                    throw JSONError(message: "bad escape", offset: i - 1)
                }
            } else {
                out.append(c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension JSONValue {
    /// Compact JSON text (no spaces), as stored and as sent in messages.
    public var compact: String {
        String(decoding: JSONBytes.encode(self), as: UTF8.self)
    }

    /// Indented JSON text, as the AWS CLI prints (4 spaces).
    public var pretty: String {
        String(decoding: JSONBytes.encode(self, indent: 4, reservingCapacity: 1024), as: UTF8.self)
    }
}
