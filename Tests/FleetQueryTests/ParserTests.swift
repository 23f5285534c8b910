// Parser tests: each query's canonical tree, and each malformed query's message and span.
import FleetQuery
import FleetTestSupport
import Testing

struct ParseCase: Sendable, CustomTestStringConvertible {
    var input: String
    var expected: String
    var testDescription: String { input }
}

@Suite struct ParserTests {
    @Test(arguments: [
        ParseCase(input: "thingName:pump-17", expected: "(term thingName pump-17)"),
        ParseCase(input: "attributes.site:denver*", expected: #"(term attributes.site (wild "denver*"))"#),
        ParseCase(input: "a:1 OR b:2 AND c:3", expected: "(or (term a 1) (and (term b 2) (term c 3)))"),
        ParseCase(input: "a:1 b:2", expected: "(and (term a 1) (term b 2))"),
        ParseCase(input: "NOT a:1 AND b:2", expected: "(and (not (term a 1)) (term b 2))"),
        ParseCase(input: "-a:1 b:2", expected: "(and (not (term a 1)) (term b 2))"),
        ParseCase(input: "-(a:1 OR a:2)", expected: "(not (or (term a 1) (term a 2)))"),
        ParseCase(input: "a:(x OR y)", expected: "(or (term a x) (term a y))"),
        ParseCase(input: "a:(x* AND -*5)", expected: #"(and (term a (wild "x*")) (not (term a (wild "*5"))))"#),
        ParseCase(input: "a:(-2 OR -1)", expected: "(or (term a -2) (term a -1))"),
        ParseCase(input: "a:[1 TO 5]", expected: "(term a (range [1 5]))"),
        ParseCase(input: "a:{1 TO 5]", expected: "(term a (range {1 5]))"),
        ParseCase(input: "a:[-2 TO -1}", expected: "(term a (range [-2 -1}))"),
        ParseCase(input: "a:[* TO 5]", expected: "(term a (range * 5]))"),
        ParseCase(input: "a>5", expected: "(term a (> 5))"),
        ParseCase(input: "a >= -0.25", expected: "(term a (>= -0.25))"),
        ParseCase(input: "a<-5", expected: "(term a (< -5))"),
        ParseCase(input: "a : b", expected: "(term a b)"),
        ParseCase(input: "a:*", expected: "(term a exists)"),
        ParseCase(input: "*", expected: "(term * exists)"),
        ParseCase(input: "eco", expected: "(term * eco)"),
        ParseCase(input: #""new york""#, expected: #"(term * "new york")"#),
        ParseCase(input: #"a:"x*y""#, expected: #"(term a "x*y")"#),
        ParseCase(input: #"a:x\*y"#, expected: "(term a x*y)"),
        ParseCase(input: "deviceDefender.P.*.inViolation:true", expected: "(term deviceDefender.P.*.inViolation true)"),
        ParseCase(input: "NOT (NOT a:1)", expected: "(not (not (term a 1)))"),
        ParseCase(input: "((a:1 OR b:2) AND c:3) OR d:4", expected: "(or (and (or (term a 1) (term b 2)) (term c 3)) (term d 4))"),
    ])
    func parses(_ c: ParseCase) throws {
        #expect(try Parser.parse(c.input).sexpr == c.expected)
    }

    @Test(arguments: [
        ("thingName:", "expected a value after ':', found end of query", 10, 10),
        ("thingName:(a OR b", "expected ')' to close the value group, found end of query", 17, 17),
        ("(thingName:a", "expected ')' to close the '(' at offset 0, found end of query", 12, 12),
        ("thingName:a)", "unbalanced ')': no '(' to close", 11, 12),
        ("thingName:a AND", "expected a clause after AND, found end of query", 12, 15),
        ("OR thingName:a", "expected a clause, found 'OR'", 0, 2),
        ("NOT", "expected a clause after NOT, found end of query", 0, 3),
        ("a:[10 20]", "expected TO in the range, found '20'", 6, 8),
        ("a:[10 TO ]", "expected a value after 'TO', found ']'", 9, 10),
        ("a:[TO 20]", "expected a value before TO", 3, 5),
        ("a>", "expected a value after '>', found end of query", 2, 2),
        (#"a:"open"#, "unterminated quoted value: add a closing '\"'", 2, 7),
        ("a:()", "empty value group: expected a value", 3, 4),
        ("()", "empty parentheses: expected a clause", 1, 2),
        (":value", "expected a field name before ':'", 0, 1),
        ("-", "expected a clause after -, found end of query", 0, 1),
        ("a:1 and b:2", "'and' is not an operator: write AND in upper case (or quote the word to search for it)", 4, 7),
        ("", "the query is empty", 0, 0),
    ])
    func rejects(input: String, message: String, start: Int, end: Int) {
        #expect(throws: QueryError(phase: input.contains("\"") ? .lex : .parse, message: message, span: SourceSpan(start: start, end: end))) {
            try Parser.parse(input)
        }
    }

    /// print → parse gives the same tree.
    @Test(arguments: [
        "a:1 OR b:2 AND c:3", "NOT a:x* AND b:[1 TO 2}", #"a:"x y" b>=-3"#, "a:(x OR y) -c:z", "eco thingTypeName:T",
        #"attributes.k:a\:b"#, "shadow.reported.v:{a TO b]", "x:*", "*",
    ])
    func roundTrips(_ q: String) throws {
        let tree = try Parser.parse(q)
        let again = try Parser.parse(tree.queryText)
        #expect(again.sexpr == tree.sexpr, "\(tree.queryText)")
    }

    /// Any bytes give a tree or a positioned error, never a crash.
    @Test func neverCrashesOnArbitraryInput() {
        var rng = SplitMix64(seed: 42)
        let alphabet = Array("ab:()[]{}<>=*?\"\\ -ANDORNOTTO.0123456789\u{e9}\u{1F600}\n\t".unicodeScalars)
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 24)
            var s = ""
            for _ in 0..<n { s.unicodeScalars.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            do {
                let tree = try Parser.parse(s)
                _ = try? Binder(now: 0).bind(tree)
            } catch {
                #expect(error.span.start >= 0 && error.span.end <= s.utf8.count, "\(s): \(error)")
                _ = error.rendered(in: s)
            }
        }
    }
}
