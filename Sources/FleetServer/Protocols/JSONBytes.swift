// FleetServer: compact JSON written straight into bytes, for response bodies. The same text as
// `JSONValue.compact` (FleetIndex; JSONBytesTests compares them), without building a String
// first: runs of bytes that need no escape are copied whole, escapes are written byte by byte
// into one growing buffer. A page of 500 thing documents carries every shadow as an escaped
// JSON string, where `compact`'s escape builds arrays per escaped byte.
import FleetIndex

enum JSONBytes {
    /// `value` as compact JSON.
    static func encode(_ value: JSONValue, reservingCapacity capacity: Int = 256) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        write(value, into: &out)
        return out
    }

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

    /// The text's bytes, unescaped (literals and number text).
    @inline(__always)
    static func append(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { out.append(contentsOf: $0) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A JSON string: `"`, `\` and control characters escaped as `JSONValue.compact` escapes
    /// them (`\n`, `\r`, `\t`, else `\u00XX`); everything else, UTF-8 included, copied.
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
