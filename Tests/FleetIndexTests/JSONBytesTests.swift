// The JSON writer (JSONBytes, behind `compact`, `pretty` and the server's bodies) against the
// texts a reader expects, and against a plain String writer kept here as the reference: strings
// with every kind of escape, Unicode, nesting, and random documents, compact and indented.
import FleetIndex
import Testing

/// The reference: JSON built as a String, one value at a time (the writer before JSONBytes).
private func reference(_ v: JSONValue, indent: String?, level: Int = 0) -> String {
    func escaped(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let h = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
    let pad = { (n: Int) in indent.map { "\n" + String(repeating: $0, count: n) } ?? "" }
    switch v {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let n): return n
    case .string(let s): return escaped(s)
    case .array(let xs):
        if xs.isEmpty { return "[]" }
        return "[" + xs.map { pad(level + 1) + reference($0, indent: indent, level: level + 1) }.joined(separator: ",") + pad(level) + "]"
    case .object(let ms):
        if ms.isEmpty { return "{}" }
        let sep = indent == nil ? ":" : ": "
        return "{" + ms.map { pad(level + 1) + escaped($0.key) + sep + reference($0.value, indent: indent, level: level + 1) }.joined(separator: ",")
            + pad(level) + "}"
    }
}

@Suite struct JSONBytesTests {
    // (string, its JSON text)
    static let stringTexts: [(String, String)] = [
        ("", #""""#), ("plain", #""plain""#), ("quote \" and back\\slash", #""quote \" and back\\slash""#),
        ("line\nfeed\rcr\ttab", #""line\nfeed\rcr\ttab""#), ("\u{0}\u{1}\u{1f}\u{7f}", "\"\\u0000\\u0001\\u001f\u{7f}\""),
        ("héllo wörld ✓ 🚀", "\"héllo wörld ✓ 🚀\""), ("\\\"\\", #""\\\"\\""#), ("end\"", #""end\"""#), ("</script>", #""</script>""#),
    ]

    @Test(arguments: stringTexts)
    func strings(_ s: String, _ text: String) throws {
        #expect(String(decoding: JSONBytes.encode(.string(s)), as: UTF8.self) == text)
        #expect(JSONValue.string(s).compact == text)
        #expect(JSONValue.string(s).pretty == text)
        #expect(try JSONValue.parse(text) == .string(s))
    }

    // (document, compact text, pretty text)
    static let documentTexts: [(String, String, String)] = [
        ("[]", "[]", "[]"), ("{}", "{}", "{}"), (#"{"a":[]}"#, #"{"a":[]}"#, "{\n    \"a\": []\n}"),
        (#"{"a":1,"b":[true,null,{"c":"d"}]}"#, #"{"a":1,"b":[true,null,{"c":"d"}]}"#,
         "{\n    \"a\": 1,\n    \"b\": [\n        true,\n        null,\n        {\n            \"c\": \"d\"\n        }\n    ]\n}"),
        (#"[[],{},[[2.5e3]]]"#, #"[[],{},[[2.5e3]]]"#, "[\n    [],\n    {},\n    [\n        [\n            2.5e3\n        ]\n    ]\n]"),
    ]

    @Test(arguments: documentTexts)
    func documents(_ text: String, _ compact: String, _ pretty: String) throws {
        let v = try JSONValue.parse(text)
        #expect(v.compact == compact)
        #expect(v.pretty == pretty)
        #expect(String(decoding: JSONBytes.encode(v, indent: 2), as: UTF8.self) == reference(v, indent: "  "))
    }

    @Test func aThingDocumentAsTheReferenceWritesIt() throws {
        let doc = try JSONValue.parse(#"{"things":[{"thingName":"pump-17","attributes":{"site":"denver","n":"1"},"shadow":"{\"a\":[1,2.5e3,null,true,false]}","connectivity":{"connected":false,"timestamp":1764324060000}}],"empty":{},"list":[],"nextToken":null}"#)
        #expect(doc.compact == reference(doc, indent: nil))
        #expect(doc.pretty == reference(doc, indent: "    "))
        #expect(try JSONValue.parse(doc.pretty) == doc)
    }

    @Test func randomDocumentsAsTheReferenceWritesThem() throws {
        var seed: UInt64 = 0x9E3779B97F4A7C15
        func next() -> UInt64 { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return seed }
        func string() -> String {
            let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "\n", "\t", "\u{1}", "é", "✓", "🚀", "/", "{"]
            return String((0..<Int(next() % 12)).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
        }
        func value(_ depth: Int) -> JSONValue {
            switch next() % (depth > 3 ? 4 : 6) {
            case 0: return .null
            case 1: return .bool(next() % 2 == 0)
            case 2: return .int(Int64(bitPattern: next()) >> 20)
            case 3: return .string(string())
            case 4: return .array((0..<Int(next() % 5)).map { _ in value(depth + 1) })
            default: return .object((0..<Int(next() % 5)).map { _ in JSONMember(string(), value(depth + 1)) })
            }
        }
        for _ in 0..<500 {
            let v = value(0)
            #expect(v.compact == reference(v, indent: nil))
            #expect(v.pretty == reference(v, indent: "    "))
            #expect(try JSONValue.parse(v.compact) == v)
        }
    }
}
