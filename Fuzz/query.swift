// fuzz-sources: Sources/FleetQuery/*.swift Sources/FleetStorage/SQL/*.swift
// fuzz-max-len: 1024
//
// Fuzz target `query`: the query language. Bytes → Lexer → Parser → Binder (plain and with
// AWS's limits) → SQLLowering (with and without planner estimates, SQLite's and PostgreSQL's
// forms) and the Evaluator.
// Every input must end in a result or a QueryError whose span lies inside the query; a
// tree must print back to text that parses to the same tree. A trap, a sanitizer report
// or an input slower than the run's -timeout is a failure.

private let sample = ThingState(
    name: "pump-17", thingId: "id-17", typeName: "Pump", groupNames: ["Denver", "Plant"],
    fields: [FieldValue(field: "attributes.site", lower: "denver"), FieldValue(field: "attributes.n", num: 5),
             FieldValue(field: "shadow.reported.on", flag: true), FieldValue(field: "shadow.name.s.hasDelta", flag: true)],
    connected: false, connectivityTimestamp: 1_800_000_000_000, disconnectReason: "CONNECTION_LOST",
    violationCount: 1,
    violations: [ViolationState(profile: "P", behavior: "B", metric: "aws:num-disconnects", lastTime: 1, lastValue: 3)])

private func check(_ e: QueryError, _ text: String) {
    let n = text.utf8.count
    guard e.span.start >= 0, e.span.start <= e.span.end, e.span.end <= n else {
        fatalError("error span \(e.span) outside the query (\(n) bytes): \(e)")
    }
    _ = e.rendered(in: text)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzQuery(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        _ = try Lexer.tokens(in: text)
    } catch {
        check(error, text)
    }
    let tree: Syntax
    do {
        tree = try Parser.parse(text)
    } catch {
        check(error, text)
        return 0
    }
    _ = tree.sexpr
    let again = tree.queryText
    do {
        let reparsed = try Parser.parse(again)
        if reparsed.sexpr != tree.sexpr {
            fatalError("round trip: \(text.debugDescription) → \(again.debugDescription) gives \(reparsed.sexpr), not \(tree.sexpr)")
        }
    } catch {
        // Printing adds parentheses and escapes: only a limit may reject the printed form.
        if !(error.message.contains("at most") || error.message.contains("levels deep")) {
            fatalError("round trip: \(text.debugDescription) → \(again.debugDescription) fails: \(error)")
        }
    }
    for aws in [false, true] {
        do {
            let bound = try Binder(now: 1_800_000_000_000, awsLimits: aws).bind(tree)
            _ = bound.sexpr
            _ = SQLLowering().lower(bound)
            _ = SQLLowering(estimate: { _, _, atMost in atMost / 2 }, ordered: false).lower(bound)
            _ = SQLLowering(estimate: { _, _, atMost in atMost }, ordered: true).lower(bound)
            // PostgreSQL's forms: every placeholder numbered, one per parameter.
            let pg = SQLLowering(dialect: PostgresDialect(), estimate: { _, _, atMost in atMost }, ordered: true).lower(bound)
            let numbered = PostgresDialect().text(of: pg)
            if pg.sql.utf8.filter({ $0 == UInt8(ascii: "?") }).count != pg.binds.count || numbered.contains("?") { fatalError("placeholders: \(numbered)") }
            for b in pg.binds { _ = PostgresDialect.parameterText(b) }
            _ = Evaluator.evaluate(bound, sample)
        } catch {
            check(error, text)
        }
    }
    return 0
}
