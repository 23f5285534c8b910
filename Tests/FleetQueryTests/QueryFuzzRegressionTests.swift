// Fuzz regressions of the query language: every input the fuzzer (scripts/fuzz.sh query)
// found failing, replayed. Each must give a tree or a positioned QueryError, and a tree must
// print back to text that parses to the same tree (these inputs broke that round trip:
// unescaped field names, white space and `&&`, a `>` before a value starting with `=`,
// escapes hidden by combining marks).
import FleetQuery
import Testing

/// Bytes from hex (the fuzzer's inputs are arbitrary bytes).
func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8).map { $0 <= 57 ? $0 - 48 : ($0 | 0x20) - 87 }
    return stride(from: 0, to: digits.count - 1, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
}

/// Parses, prints and re-parses `text`, binds it plain and with AWS's limits, lowers and
/// renders errors; returns what went wrong (nil: nothing).
func replay(_ text: String) -> String? {
    let n = text.utf8.count
    func inside(_ e: QueryError) -> Bool { e.span.start >= 0 && e.span.start <= e.span.end && e.span.end <= n }
    let tree: Syntax
    do { tree = try Parser.parse(text) } catch {
        _ = error.rendered(in: text)
        return inside(error) ? nil : "span \(error.span) outside \(n) bytes"
    }
    do {
        let again = try Parser.parse(tree.queryText)
        if again.sexpr != tree.sexpr { return "round trip: \(tree.queryText.debugDescription) gives \(again.sexpr), not \(tree.sexpr)" }
    } catch {
        if !(error.message.contains("at most") || error.message.contains("levels deep")) {
            return "round trip: \(tree.queryText.debugDescription) fails: \(error)"
        }
    }
    for aws in [false, true] {
        do { _ = try Binder(now: 0, awsLimits: aws).bind(tree) } catch {
            if !inside(error) { return "bind span \(error.span) outside \(n) bytes" }
        }
    }
    return nil
}

/// The fuzzer's inputs, by the start of their file name under Fuzz/crashes/query/.
let queryFuzzInputs: [(String, String)] = [
    ("02cae0f4071d", """
        203f3f3f3f3f3f3f3f3f3f3f3f20414e44204e4f54b2747472fff7ffffffffff3f3f3f3f656d708c86df9e9a8f8c868d\
        de8f9e000000000000005c5c000000000000000000000000736861646f772e68617344656c74613a646573697265642e\
        0909090909090909446f75626c6509097468696e6747726f75704e616d65733709090909090909090922222222222222\
        222222222222222222
        """),
    ("03c0d58f93c8", """
        273b9864745c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c6d653a64726f7090ffffffffffffffffffffffffffffff20ffff41\
        e15c5c5c5c5c5c5c5c5c5c5c5c633f5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c61626c\
        6520746e
        """),
    ("14f79e8cf716", """
        273b2064745c5c5c5c5c5c636f6e6e65637469766974792e636f6e6e65637465643a5cff26ffff5c5c5c5c5c5c5c5c5c\
        5c5c5c5c5c5c5c5c5c5c5c5c3f5c5c5c635c5c5c5c5c414e445c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c6162\
        6c6520746e
        """),
    ("1cff2777e060", """
        5c2824302e7465736861646f772e64657369959595959595959595959595959595959595959595959595959595959595\
        95959595959595959595959595959595959595959595959595959595959595959595952d959595959595959595959595\
        95959595959595959595959595959595959595959595953a2e646573697265642e696e
        """),
    ("1dfe1fce71d5", """
        27750000005c5c5c5c5c5c5c5c5c5c5c5c415c5c5c5c5c5c26265c5c5c5c5c5c5cb25cffffff5c5c5c5c5c5c7468696e\
        674e616d653a5c5c5c5c5c5c5c633f5c5c5c5c5c5c5c2222225ca4a3a3a75c5c5c5c5c5c5c5c4c5c5c5c5c5c5c5c5c5c\
        61626c6520746e
        """),
    ("2accee6434e5", """
        273b20645c5c686868686868686868686868686868686868686868686868ffffff632d3e006868686868686868686868\
        6868686868686868686868685c5c5c5c5c5c5c5c5c5c2e6c61737456696f6c6174696f6e56616c75686868652e64ea76\
        696365446566656e096465722e76696f6c61
        """),
    ("2f4ca6e1ef50", "742e0052616e6765205c2853454c457468696e674e616d653a20465261747473726962753d20496e743f3d"),
    ("43dfda27c30e", """
        f1382a5c297879ffffffffffffffffffffffff53ffffffffffff10ffffffffffffffffff000000f8ffffffffffffffff\
        ffffffffffffff25fffdffffbfffff7468696e67547970654e616d653affffffffffffffffffffffffffffffffffffff\
        ffffffffffffff
        """),
    ("46b5ff443dc4", """
        2a5c5c5c3f5c5c65732e5c5c6162740000007468ffff002d2d2d417468696e6749643a2d2d2d2d2d2d2d3f412d2d
        """),
    ("4fbc92aec90c", "785cc85c2927c86e6749643a1d1d021d1d021d1d1d1d1d1d1d7a1d1d1de3e2e26861642c00"),
    ("54b4e20bef1e", """
        202d3b6e6563f4692376696f6e436f0909095c0909092d3a606e0600b47c22611d00002d2c646576696365446566656e\
        6465722e2a2e2a2e696e56696f0000000000000072000075000022222d22611d436f0909090909092d09653aff202626\
        2d
        """),
    ("56f7ed2e4a62", """
        273b20645c5c5c5c5c5c5ca4a3a39c5c2e6c6173745669216c61ffffffff74696f6e56616c75652e6465766963654465\
        66656e273b2064dc5c5c5c5c5c5c5c5c5c5c5c2e6c61737456696f6c6174696f6e56616c756465722e76696f6c6174b4\
        b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b43ab4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4696f5c5ca2\
        a39e9d652e646576696365446566656e6465722e76696f6c6174696f5c5ca2a39e9d93544f8b6e93544f8b6e
        """),
    ("5ef040fcef58", """
        7800c2fcff00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\
        ffffffffffffff64657669636500c85c09000000000000006ec8245c2a2a79
        """),
    ("66cda4eef701", """
        273b20645c5c5c5c5c5c5c617474726962757465732e736974653a646574726962757465736e766586722a5c5c5c2e6c\
        615669616f746c7374696f6e56616c75652e636f756e745c5c5c5c5c5c5c5c5c5c5c5c5c5c26265c5c5c9c5c5c5ca2a3\
        139d93544f8b6e
        """),
    ("6835ecaba9e9", """
        273b9864745c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c26265c5c5c5c5c5c5cb25cffffff5c5c5c5c5c5c5c5c5c5c\
        5c5c5c5c5c5c5c7468696e6749643a5c5c5c5c5c5c633f5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c\
        5c5c5c5c5c61626c6520746e
        """),
    ("7418fd7674d9", "785c092a2a782a2a78"),
    ("83434cd3359b", """
        273b9864745c5c7468696e67547970654e616d653a5c5c5c26265c5c5c5c5c5c5cb25cffffff5c5c5c5c5c5c5c5c5c5c\
        5c5c5c5c5c5c5c5c5c5c5c5c5c632a5c5c5c5c5c5c5c5c5c5c5c5c5c5c626c6520742e68696e673b202d2d5c5c61626c\
        6520746e
        """),
    ("a65a5135912e", """
        636f6e6e65637476696974792e636f6e6e657468696e674e616d653a70756d705c2d3137205c2d78637465643a6d6179\
        20284e4f5420286120627c7c20622920262620656329
        """),
    ("ad0ccd9855b5", """
        74c80d5c5c533a222affffffffffffffffff226f45b4ba3c3d2061ffffffffffffffffffffffffffffffffffffffffff\
        ffffffffffffffffff5245616e692e205fffffffff616c61
        """),
    ("bb7e598b159c", """
        5c2824302e7465736861646f772e646573699595959595959595959595959595959595959595957468696e6747726f75\
        704e616d65733a000000000000000000959595959595959595959595959595959595959531959595959595956f959595\
        952d95959595959595959595959595959595959595959595959595959595959595959595952e4f72526465697365642e\
        696e
        """),
    ("c8570a10e7cc", """
        7824c85c2a5324c85c2a5365749a8c2d3f2a2626010000002f217824c85c0909090909090909090909090909dadadada\
        dadadadadadadadadadadadadadadadadadadadadadadadadadada7274656465745c736861646f20772e7265706f7274\
        65644f522ec82a5c2a79
        """),
    ("cab86cc7fbd1", """
        656d708c86df8f9e8d9a8c86df8f9e8d9a222223222222222218225c22663e3d000000002a202d222b22222222182222\
        22222a22222222dcffddddddff9add225f00002a2222222b2222222218222222222a22222222dcffddddddff9add225f\
        735f730000
        """),
    ("cc8eae2465b6", "61382a27ffffff5c5b1d1dff3bffff1dffff2affffffffff1d1d3e1dffff2adb78d0"),
    ("d289bdf0e435", """
        4e4fdd2ddd226754797022090505050505050c222200006400000000003d222221fe007c00002c0000220a0505050505\
        7c20ffff636f6e001200000074724e4420610c2257007468696e67547970414e616d653a70726f66696c65203d3e3ddd\
        dddd226754797022090505057c20ffff636f6e0012000000747274724e4420612e70726f66696c3e203d204f4f696c65\
        52f852f85c5b2a1a79aa2a1a5c5b2a1a79f85c5b2a1a
        """),
    ("d507f77056d8", "74696e68673a00000000004e0d5c20d896e526262000000000000000006563000000"),
    ("d61837dd49e8", """
        3f3f00000000000000423f3f5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c\
        5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c\
        5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c373f7f3f3f3e3f3f
        """),
    ("d8a7ac509f28", """
        273b2064745c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5cb25cffffff5c5c5c5c5c5c5c5c5c5c\
        5c5c5c5c5c5c5c5c5c5c5c3f5c5c5c635c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5d5c5c5c5c5c696e674964\
        3a3e3d61
        """),
    ("df502a485584", """
        636f6e6e6563747669696ee64e616d636f6e6e65637469766974792e7469010000006d8ddf8f9e8d988c5c0909221822\
        2222222265da7374616d707479636f6e6e65637469726974792e646973636f6e6e3f6563745265a48c6f223add22dd23\
        6e643a6d61796265
        """),
    ("df74d1be31fd", "615c7b2ac9783a79"),
    ("e907dae2c680", """
        273b20645c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c636f6e6e65637469766974792e636f6e6e\
        65637465643a5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5ca2a39e\
        9d93544f8b6e
        """),
    ("ef7f3118bde7", """
        c261613a2effff7a8cde706e7468696e65662800000000000000756d707468696e30005c20386e674e616d653a2d5c28\
        6929
        """),
    ("f024df7a7f45", "00122a1a00005c7d00746275653af85c2a3d1a79"),
    ("f6a0754afac3", """
        742e696420494e202853454c4543542061524520612e696e5f616c61726d203d203220949494949494532a5c20493a61\
        78204e4f54204e554c4c20414e4420612e70726f66696c65203d203f29
        """),
    ("f6f0a64e4c2c", """
        6465423d636544656665ff61382a5c7d4e0074727565736861646f772e68617344656c74613a61c8c8c8c8c8c8c83737\
        3737373737373737373737373737379a9aff0d0dff0d3c9a3d
        """),]

@Suite struct QueryFuzzRegressionTests {
    @Test(arguments: queryFuzzInputs.map(\.0))
    func fuzzerInputsRoundTrip(_ name: String) {
        let hex = queryFuzzInputs.first { $0.0 == name }!.1
        let text = String(decoding: hexBytes(hex), as: UTF8.self)
        #expect(replay(text) == nil)
    }

    /// The same faults, written small.
    @Test(arguments: [
        #"a\{*x:y"#,                   // a field name with an escaped brace
        "x\\\t**x**x",                 // an escaped tab in a wildcard value
        #"t \(SELE:x"#,                // an escaped parenthesis in a field name
        #"\-a"#, #"\-5"#, "-5",        // an escaped dash is text; a bare -5 is NOT 5
        "a:(\\-5 OR -6)",              // in a value group, -6 is a value
        "a > =x",                      // a value starting with '='
        #"\&& \|| \AND \TO"#,          // operators escaped are words
        #"\NOT:x \-f:y"#,              // ... and so are field names
        "a:\"x\\\\\u{301}\"",          // a backslash before a combining mark, in a phrase
        "a:x\\\\\u{301}",              // ... and in a word
        "-\u{301}a",                   // a dash before a combining mark
    ])
    func smallCasesRoundTrip(_ q: String) {
        #expect(replay(q) == nil)
    }

    @Test func escapedDashIsALiteralWord() throws {
        #expect(try Parser.parse(#"\-a"#).sexpr == "(term * -a)")
        #expect(try Parser.parse("--a").sexpr == "(not (not (term * a)))")
        #expect(try Parser.parse("a:(--5)").sexpr == "(not (term a -5))")
        #expect(try Parser.parse("-- a").sexpr == "(not (not (term * a)))")
    }
}
