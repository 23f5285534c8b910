// Limit tests: queries past the language's limits (the parser's nesting, the Binder's terms,
// nesting and value length, the query length) fail as positioned QueryErrors, quickly and
// in bounded stack; queries at the limits still parse and bind.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FleetQuery
import FleetStorage
import FleetTestSupport
import Testing

/// A query built for a test, with the span the expected error points at.
struct LimitCase: Sendable, CustomTestStringConvertible {
    var name: String
    var query: String
    var phase: QueryError.Phase
    var message: String
    var span: SourceSpan
    var testDescription: String { name }
}

/// `parts` joined by `separator`, with the byte span of part `k`.
func joined(_ parts: [String], _ separator: String, spanOf k: Int) -> (String, SourceSpan) {
    var out = ""
    var span = SourceSpan(start: 0, end: 0)
    for (i, p) in parts.enumerated() {
        if i > 0 { out += separator }
        if i == k { span = SourceSpan(start: out.utf8.count, end: out.utf8.count + p.utf8.count) }
        out += p
    }
    return (out, span)
}

func rep(_ s: String, _ n: Int) -> String { String(repeating: s, count: n) }

/// `(a0 OR (a1 AND (a2 OR ... z)))`, `n` groups deep.
func alternating(_ n: Int) -> String {
    (0..<n).map { $0 % 2 == 0 ? "(a\($0) OR " : "(a\($0) AND " }.joined() + "z" + rep(")", n)
}

let depthMessage = "parentheses and NOT nest more than 32 levels deep: simplify the query"
let nestingMessage = "NOT, AND and OR nest more than 16 levels deep here: simplify the query"

let overLimit: [LimitCase] = {
    var cases: [LimitCase] = [
        // The fuzzing pass's stack overflows: the parser stops at its 33rd level.
        LimitCase(name: "3,600 nested (", query: rep("(", 3600) + "a" + rep(")", 3600), phase: .parse,
                  message: depthMessage, span: SourceSpan(start: 32, end: 33)),
        LimitCase(name: "4,000 NOT", query: rep("NOT ", 4000) + "a", phase: .parse,
                  message: depthMessage, span: SourceSpan(start: 128, end: 131)),
        LimitCase(name: "16,000 dashes in one word", query: rep("-", 16_000) + "a", phase: .parse,
                  message: depthMessage, span: SourceSpan(start: 32, end: 33)),
        LimitCase(name: "8,000 '- '", query: rep("- ", 8000) + "a", phase: .parse,
                  message: depthMessage, span: SourceSpan(start: 64, end: 65)),
        LimitCase(name: "nested value groups", query: "a:" + rep("(", 70) + "x" + rep(")", 70), phase: .parse,
                  message: depthMessage, span: SourceSpan(start: 34, end: 35)),
        LimitCase(name: "NOT ( x 40", query: rep("NOT (", 40) + "a" + rep(")", 40), phase: .parse,
                  message: depthMessage, span: SourceSpan(start: 80, end: 83)),
        // Past 16 KiB the Lexer refuses before reading a token.
        LimitCase(name: "15,262 NOT", query: rep("NOT ", 15_262) + "a", phase: .lex,
                  message: "the query is 61049 bytes long; at most 16384 are allowed", span: SourceSpan(start: 16_384, end: 61_049)),
        LimitCase(name: "20,000 dashes", query: rep("-", 20_000) + "a", phase: .lex,
                  message: "the query is 20001 bytes long; at most 16384 are allowed", span: SourceSpan(start: 16_384, end: 20_001)),
        LimitCase(name: "60,000 dashes", query: rep("-", 60_000) + "a", phase: .lex,
                  message: "the query is 60001 bytes long; at most 16384 are allowed", span: SourceSpan(start: 16_384, end: 60_001)),
        LimitCase(name: "50,002-byte wildcard", query: "thingName:" + rep("x*", 25_001), phase: .lex,
                  message: "the query is 50012 bytes long; at most 16384 are allowed", span: SourceSpan(start: 16_384, end: 50_012)),
        LimitCase(name: "16,385 bytes", query: rep("a ", 8192) + "b", phase: .lex,
                  message: "the query is 16385 bytes long; at most 16384 are allowed", span: SourceSpan(start: 16_384, end: 16_385)),
        // SQLite's limits, caught by the Binder.
        LimitCase(name: "46 nested NOT", query: rep("NOT ", 46) + "attributes.site:denver", phase: .parse,
                  message: depthMessage, span: SourceSpan(start: 128, end: 131)),
        LimitCase(name: "30 nested NOT", query: rep("NOT ", 30) + "attributes.site:denver", phase: .bind,
                  message: nestingMessage, span: SourceSpan(start: 64, end: 30 * 4 + 22)),
        LimitCase(name: "17 nested NOT", query: rep("NOT ", 17) + "a", phase: .bind,
                  message: nestingMessage, span: SourceSpan(start: 64, end: 69)),
        LimitCase(name: "an 8,193-byte wildcard value", query: "thingName:" + rep("x", 8192) + "*", phase: .bind,
                  message: "a value is at most 8192 bytes (this one is 8193)", span: SourceSpan(start: 10, end: 8203)),
        LimitCase(name: "an 8,193-byte range bound", query: "attributes.n:[1 TO " + rep("9", 8193) + "]", phase: .bind,
                  message: "a value is at most 8192 bytes (this one is 8193)", span: SourceSpan(start: 19, end: 19 + 8193)),
        LimitCase(name: "an 8,193-byte field name", query: "attributes." + rep("k", 8182) + ":v", phase: .bind,
                  message: "a field name is at most 8192 bytes (this one is 8193)", span: SourceSpan(start: 0, end: 8193)),
    ]
    let (or998, or257) = joined((0..<998).map { "v\($0)" }, " OR ", spanOf: 256)
    cases.append(LimitCase(name: "998 OR terms", query: or998, phase: .bind,
                           message: "the query has 998 terms; at most 256 are allowed", span: or257))
    let (and619, and257) = joined((0..<619).map { "attributes.site:v\($0)" }, " ", spanOf: 256)
    cases.append(LimitCase(name: "619 implicit ANDs", query: and619, phase: .bind,
                           message: "the query has 619 terms; at most 256 are allowed", span: and257))
    let (group, group257) = joined((0..<300).map { "x\($0)" }, " OR ", spanOf: 256)
    cases.append(LimitCase(name: "300 values in a group", query: "attributes.k:(" + group + ")", phase: .bind,
                           message: "the query has 300 terms; at most 256 are allowed",
                           span: SourceSpan(start: group257.start + 14, end: group257.end + 14)))
    // The 17th group of `alternating(25)` is too deep; its span starts at its first term, a16,
    // and ends at z (the closing parentheses are not in a node's span).
    let alt = alternating(25)
    let bytes = Array(alt.utf8)
    let a16 = bytes.indices.first { bytes[$0...].starts(with: "a16 ".utf8) }!
    cases.append(LimitCase(name: "25 alternating groups", query: alt, phase: .bind,
                           message: nestingMessage, span: SourceSpan(start: a16, end: bytes.count - 25)))
    return cases
}()

/// Queries at the limits, accepted.
let atTheLimits: [(String, String)] = {
    var cases: [(String, String)] = []
    cases.append(("32 nested (", rep("(", 32) + "attributes.a:1" + rep(")", 32)))
    cases.append(("16 nested NOT", rep("NOT ", 16) + "a"))
    cases.append(("16 dashes", rep("-", 16) + "a"))
    cases.append(("16 alternating groups", alternating(16)))
    let or256: [String] = (0..<256).map { "v\($0)" }
    cases.append(("256 OR terms", or256.joined(separator: " OR ")))
    let and256: [String] = (0..<256).map { "attributes.site:v\($0)" }
    cases.append(("256 implicit ANDs", and256.joined(separator: " ")))
    cases.append(("an 8,192-byte wildcard value", "thingName:" + rep("x", 8191) + "*"))
    cases.append(("an 8,192-byte field name", "attributes." + rep("k", 8181) + ":v"))
    return cases
}()

/// A class the 512 KB thread writes its findings to.
final class Findings: @unchecked Sendable {
    var lines: [String] = []
}


@Suite struct QueryLimitTests {
    let now: Int64 = 1_800_000_000_000

    @Test(arguments: overLimit)
    func rejectsPastTheLimits(_ c: LimitCase) {
        #expect(throws: QueryError(phase: c.phase, message: c.message, span: c.span)) {
            try Binder.compile(c.query, now: now)
        }
    }

    @Test(arguments: atTheLimits)
    func acceptsAtTheLimits(_ name: String, _ query: String) throws {
        let bound = try Binder.compile(query, now: now)
        _ = SQLLowering().lower(bound)
    }

    /// The longest query the Lexer takes (its 8,192 terms are then the Binder's to refuse).
    @Test func lexesAQueryOf16KiB() throws {
        let q = rep("a ", 8192)
        #expect(q.utf8.count == Lexer.maxQueryBytes)
        #expect(try Lexer.tokens(in: q).count == 8193)
        #expect(throws: QueryError.self) { try Binder.compile(q, now: now) }
    }

    /// Every `-` of a word is read once: a long run is refused at its 33rd dash, and thousands
    /// of `-word`s take linear time (they used to re-lex the rest of the query each). Measured
    /// in the thread's CPU time, not the wall clock, and as growth: four times the input may
    /// cost at most eight times the work (quadratic work grows sixteenfold).
    @Test func dashesAreLinear() throws {
        let e = try #require(throws: QueryError.self) { try Parser.parse(rep("-", 16_000) + "a") }
        #expect(e.span.start == Parser.maxDepth)
        let (quarter, whole) = (rep("-a ", 1250), rep("-a ", 5000))
        var tree: Syntax? = nil
        let (small, large) = try leastCPUTimes({ _ = try Parser.parse(quarter) }, { tree = try Parser.parse(whole) })
        #expect(large < 8 * small + 0.002, "5,000 words: \(large) s of CPU; 1,250 words: \(small) s")
        if case .and(let xs, _)? = tree { #expect(xs.count == 5000) } else { Issue.record("not an AND") }
        let (shortRun, longRun) = (rep("-", 1000) + "a", rep("-", 16_000) + "a")
        let (refusedShort, refusedLong) = leastCPUTimes({ _ = try? Parser.parse(shortRun) }, { _ = try? Parser.parse(longRun) })
        #expect(refusedLong < 32 * refusedShort + 0.002, "16,000 dashes: \(refusedLong) s of CPU; 1,000: \(refusedShort) s")
    }

    /// The least CPU time of this thread, in seconds, that each of `a` and `b` took over three
    /// runs of each, alternated (so a change of the machine's load falls on both).
    private func leastCPUTimes(_ a: () throws -> Void, _ b: () throws -> Void) rethrows -> (Double, Double) {
        func cpu(_ body: () throws -> Void) rethrows -> Double {
            var start = timespec(), end = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
            try body()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
            return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        }
        var best = (Double.infinity, Double.infinity)
        for _ in 0..<3 {
            best.0 = min(best.0, try cpu(a))
            best.1 = min(best.1, try cpu(b))
        }
        return best
    }

    /// The deepest queries the parser accepts, parsed (and bound, lowered, evaluated, printed
    /// and destroyed where the Binder accepts them) on a thread with a 512 KB stack, as small
    /// as a Swift task's.
    @Test func deepestQueriesFitA512KStack() {
        let queries = [
            rep("(", 32) + "attributes.a:1" + rep(")", 32),
            rep("NOT ", 32) + "a",
            rep("-", 32) + "a",
            rep("- ", 32) + "a",
            rep("NOT (", 16) + "a OR b c" + rep(")", 16),
            "attributes.a:(" + rep("(", 31) + "x OR y" + rep(")", 32),
            alternating(32),
            alternating(16),
            rep("NOT ", 16) + "attributes.site:denver",
            rep("(NOT ", 8) + "x" + rep(")", 8),
            rep("(", 33) + "a" + rep(")", 33),
            rep("NOT ", 33) + "a",
        ]
        let findings = Findings()
        let now = self.now
        onThread(stackSize: 512 * 1024) {
            let thing = ThingState(name: "pump-17", thingId: "id")
            for q in queries {
                do {
                    let tree = try Parser.parse(q)
                    _ = tree.sexpr
                    let again = try Parser.parse(tree.queryText)
                    if again.sexpr != tree.sexpr { findings.lines.append("round trip: \(q.prefix(40))") }
                    do {
                        let bound = try Binder(now: now).bind(tree)
                        _ = bound.sexpr
                        _ = SQLLowering().lower(bound)
                        _ = Evaluator.evaluate(bound, thing)
                        findings.lines.append("bound")
                    } catch {
                        findings.lines.append((error as? QueryError)?.message == nestingMessage ? "too deep" : "bind: \(error)")
                    }
                } catch {
                    findings.lines.append((error as? QueryError)?.message == depthMessage ? "too deep to parse" : "parse: \(error)")
                }
            }
        }
        #expect(findings.lines == ["bound", "too deep", "too deep", "too deep", "too deep", "bound", "too deep",
                                   "bound", "bound", "bound", "too deep to parse", "too deep to parse"])
    }
}
