// PostgreSQL's forms of generated SQL: wildcard patterns as LIKE, numbered placeholders,
// parameters in the text form a bigint column reads.
import FleetQuery
import FleetStorage
import Testing

@Suite struct PostgresDialectTests {
    @Test(arguments: [
        ("denver", "denver"), ("den*", "den%"), ("site-0?", "site-0_"), ("*-1?", "%-1_"),
        ("100%", "100\\%"), ("a_b", "a\\_b"), ("back\\slash", "back\\\\slash"),
        ("[*]star", "*star"), ("[?]q", "?q"), ("[[]open", "[open"), ("]close", "]close"),
        ("shadow.name.*.reported.mode", "shadow.name.%.reported.mode"), ("", ""), ("*", "%"),
        ("ünï*", "ünï%"), ("[", "["), ("[x", "[x"),
    ])
    func wildcardPatternsBecomeLikePatterns(_ glob: String, _ like: String) {
        #expect(PostgresDialect.likePattern(glob) == like)
    }

    @Test func literalGlobsRoundTripToLiteralLikes() {
        for text in ["a*b?c[d", "50%_off", "x\\y", "plain"] {
            let like = PostgresDialect.likePattern(Lexer.literalGlob(text))
            // Unescaping the LIKE pattern gives the text back: every wildcard was escaped.
            var out = "", escaped = false
            for ch in like {
                if escaped { out.append(ch); escaped = false } else if ch == "\\" { escaped = true } else {
                    #expect(ch != "%" && ch != "_", "\(text): unescaped wildcard in \(like)")
                    out.append(ch)
                }
            }
            #expect(out == text)
        }
    }

    @Test func placeholdersAreNumberedAndFractionsCast() {
        var f = SQLFragment("t.name_lower = ")
        f.append(bind: .text("a?b"))
        f.append(" AND t.conn_ts > ")
        f.append(bind: .real(1_764_000_000_000))
        f.append(" AND x.value < ")
        f.append(bind: .real(2.5))
        f.append(" AND t.connected = ")
        f.append(bind: .integer(0))
        #expect(PostgresDialect().text(of: f) == "t.name_lower = $1 AND t.conn_ts > $2 AND x.value < $3::float8 AND t.connected = $4")
        #expect(SQLiteDialect().text(of: f) == f.sql)
        #expect(f.binds.map(PostgresDialect.parameterText) == ["a?b", "1764000000000", "2.5", "0"])
    }

    @Test func theLoweringWritesNoSQLiteOnlyFormForPostgres() throws {
        let queries = ["connectivity.connected:false AND attributes.site:den*", "deviceDefender.violationCount>1",
                       "connectivity.disconnectReason:*", "NOT thingName:*", "shadow.reported:*", "thingGroupNames:g*"]
        let estimates: [SQLLowering.Estimator?] = [nil, { _, _, _ in SQLLowering.estimateCap }, { f, _, _ in f == .connected ? 1 : 50 }]
        for q in queries {
            let bound = try Binder(now: 0).bind(try Parser.parse(q))
            for e in estimates {
                let text = PostgresDialect().text(of: SQLLowering(dialect: PostgresDialect(), estimate: e, ordered: e != nil).lower(bound))
                for form in ["GLOB", "INDEXED BY", "CROSS JOIN", "+t.", "?", "= 0", "= 1"] {
                    #expect(!text.contains(form), "\(q): \(form) in \(text)")
                }
            }
        }
    }
}
