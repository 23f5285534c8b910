// FleetIndex: JSON text written straight into bytes: the one writer behind `JSONValue.compact`
// (as stored and as sent in messages), `JSONValue.pretty` (the CLI's output, indented as the
// AWS CLI indents) and the server's response bodies. Runs of bytes that need no escape are
// copied whole; escapes and indentation are written into one growing buffer, with no String
// built per value.

/// JSON text as UTF-8 bytes.
public enum JSONBytes {
    /// `value` as compact JSON (no spaces), or with `indent` as indented JSON: one member or
    /// element a line, `indent` spaces a level, `": "` between a key and its value; empty
    /// arrays and objects stay `[]` and `{}`.
    public static func encode(_ value: JSONValue, indent: Int? = nil, reservingCapacity capacity: Int = 256) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        if let indent { write(value, into: &out, indent: indent, level: 0) } else { write(value, into: &out) }
        return out
    }

    /// Appends `value` as compact JSON.
    static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: append("null", to: &out)
        case .bool(let v): append(v ? "true" : "false", to: &out)
        case .number(let n): append(n, to: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let xs):
            out.append(UInt8(ascii: "["))
            var first = true
            for x in xs {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                write(x, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let ms):
            out.append(UInt8(ascii: "{"))
            var first = true
            for m in ms {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeString(m.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(m.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `value` indented, its first line at `level` (already written: the caller's).
    static func write(_ value: JSONValue, into out: inout [UInt8], indent: Int, level: Int) {
        switch value {
        case .array(let xs) where !xs.isEmpty:
            out.append(UInt8(ascii: "["))
            for (k, x) in xs.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, spaces: indent * (level + 1))
                write(x, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, spaces: indent * level)
            out.append(UInt8(ascii: "]"))
        case .object(let ms) where !ms.isEmpty:
            out.append(UInt8(ascii: "{"))
            for (k, m) in ms.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, spaces: indent * (level + 1))
                writeString(m.key, into: &out)
                out.append(UInt8(ascii: ":"))
                out.append(UInt8(ascii: " "))
                write(m.value, into: &out, indent: indent, level: level + 1)
            }
            newline(&out, spaces: indent * level)
            out.append(UInt8(ascii: "}"))
        default:
            write(value, into: &out)
        }
    }

    @inline(__always)
    private static func newline(_ out: inout [UInt8], spaces: Int) {
        out.append(0x0A)
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: spaces))
    }

    /// The text's bytes, unescaped (literals and number text).
    @inline(__always)
    static func append(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { out.append(contentsOf: $0) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string: `"`, `\` and control characters escaped (`\n`, `\r`, `\t`, else
    /// `\u00XX`); everything else, UTF-8 included, copied.
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            var runStart = 0
            var i = 0
            let n = bytes.count
            while i < n {
                let b = bytes[i]
                if b >= 0x20 && b != 0x22 && b != 0x5C {
                    i += 1
                    continue
                }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
                out.append(0x5C)
                switch b {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    out.append(UInt8(ascii: "u"))
                    out.append(0x30)
                    out.append(0x30)
                    out.append(hex[Int(b >> 4)])
                    out.append(hex[Int(b & 15)])
                }
                i += 1
                runStart = i
            }
            if runStart < n { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<n])) }
        }
        out.append(UInt8(ascii: "\""))
    }
}
