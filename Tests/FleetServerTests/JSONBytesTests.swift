// The response writer writes the same text as JSONValue.compact: strings with every kind of
// escape, Unicode, nesting, and random documents.
@testable import FleetServer
import FleetIndex
import Testing

@Suite struct JSONBytesTests {
    static let strings = ["", "plain", "quote \" and back\\slash", "line\nfeed\rcr\ttab", "\u{0}\u{1}\u{1f}\u{7f}",
                          "héllo wörld ✓ 🚀", #"{"state":{"reported":{"temp":71.5,"note":"<script>"}}}"#, "\\\"\\", "end\""]

    @Test(arguments: strings)
    func stringsAsCompact(_ s: String) {
        #expect(String(decoding: JSONBytes.encode(.string(s)), as: UTF8.self) == JSONValue.string(s).compact)
    }

    @Test func documentsAsCompact() throws {
        let doc = try JSONValue.parse(#"{"things":[{"thingName":"pump-17","attributes":{"site":"denver","n":"1"},"shadow":"{\"a\":[1,2.5e3,null,true,false]}","connectivity":{"connected":false,"timestamp":1764324060000}}],"empty":{},"list":[],"nextToken":null}"#)
        #expect(String(decoding: JSONBytes.encode(doc), as: UTF8.self) == doc.compact)
    }

    @Test func randomDocumentsAsCompact() {
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
            #expect(String(decoding: JSONBytes.encode(v), as: UTF8.self) == v.compact)
        }
    }
}
