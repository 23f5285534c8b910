// The console over HTTP, in process: login and sessions, CSRF, escaping, the security
// headers, the pages with the engine's answers (search, caret, paging, chart, profile,
// groups, alerts, overview). Each test has its own temporary database and a fixed clock.
@testable import FleetServer
import FleetIndex
import Foundation
import Testing

@Suite struct ConsoleTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a & b", "a &amp; b"),
        ("\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;"),
        ("é ✓ <", "é ✓ &lt;"),
    ])
    func escapeFunction(_ input: String, _ expected: String) {
        #expect(HTML.escape(input) == expected)
        let value = input
        let h: HTML = "<p title=\"\(value)\">\(value)</p>"
        #expect(h.text == "<p title=\"\(expected)\">\(expected)</p>")
    }

    @Test(arguments: ["/console", "/console/things?query=connectivity.connected:false", "/console/things/pump-17", "/console/profiles",
                      "/console/profiles/Disconnect_duration_5m", "/console/groups", "/console/alerts", "/console/nowhere"])
    func everyPageNeedsTheSession(_ target: String) async throws {
        let f = try ConsoleFixture()
        let r = await f.request("GET", target)
        #expect(r.status == 303)
        #expect(r.location == ConsoleFormat.url("/console/login", [("next", target)]), "\(r.location ?? "")")
        #expect(!r.body.contains("<html"), "no page without a session")
        let forged = await f.request("GET", target, cookie: String(repeating: "a", count: 64))
        #expect(forged.status == 303, "an unknown token is no session")
    }

    @Test(arguments: [("/console/login", "text/html"), ("/console/static/console.css", "text/css"), ("/console/static/console.js", "text/javascript")])
    func loginPageAndAssetsArePublic(_ target: String, _ type: String) async throws {
        let f = try ConsoleFixture()
        let r = await f.request("GET", target)
        #expect(r.status == 200)
        #expect(r.header("content-type")?.hasPrefix(type) == true)
    }

    @Test func rootGoesToTheConsole() async throws {
        let f = try ConsoleFixture()
        let r = await f.request("GET", "/")
        #expect(r.status == 303 && r.location == "/console")
    }

    /// SNS and SQS post to `/`: those requests stay the API's (here: unsigned, so refused by SigV4).
    @Test(arguments: [("POST", "/", "Action=ListTopics&Version=2010-03-31"), ("GET", "/?Action=ListQueues&Version=2012-11-05", nil)])
    func theAPIKeepsItsRequestsToRoot(_ method: String, _ target: String, _ body: String?) async throws {
        let f = try ConsoleFixture()
        let r = await f.request(method, target, body: body)
        #expect(r.status == 403, "\(r.status) \(r.body)")
        #expect(r.header("content-security-policy") == nil && !r.body.contains("<html"))
    }

    @Test(arguments: [
        ("AKIDLOCAL", "s3cret", 303),
        ("AKIDLOCAL", "s3cret ", 401),
        ("AKIDLOCAL", "wrong", 401),
        ("AKIDOTHER", "s3cret", 401),
        ("", "", 401),
    ])
    func loginChecksTheKeyPair(_ id: String, _ secret: String, _ status: Int) async throws {
        let f = try ConsoleFixture()
        let r = await f.request("POST", "/console/login", form: [("accessKeyId", id), ("secretAccessKey", secret), ("next", "/console/alerts")])
        #expect(r.status == status)
        if status == 303 {
            let cookie = try #require(r.header("set-cookie"))
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/console"))
            #expect(!cookie.contains("s3cret") && !cookie.contains("AKIDLOCAL"), "no key in the cookie")
            #expect(r.location == "/console/alerts")
        } else {
            #expect(r.header("set-cookie") == nil)
            #expect(r.body.contains("wrong"))
        }
    }

    @Test(arguments: ["https://evil.example/", "//evil.example/", "/elsewhere", "/console/login"])
    func loginGoesOnlyToConsolePaths(_ next: String) async throws {
        let f = try ConsoleFixture()
        let r = await f.request("POST", "/console/login", form: [("accessKeyId", "AKIDLOCAL"), ("secretAccessKey", "s3cret"), ("next", next)])
        #expect(r.status == 303 && r.location == "/console")
    }

    @Test func logoutEndsTheSession() async throws {
        let f = try ConsoleFixture()
        let (cookie, csrf) = try await f.login()
        #expect(await f.request("GET", "/console", cookie: cookie).status == 200)
        let out = await f.request("POST", "/console/logout", form: [("csrf", csrf)], cookie: cookie)
        #expect(out.status == 303 && out.header("set-cookie")?.contains("Max-Age=0") == true)
        #expect(await f.request("GET", "/console", cookie: cookie).status == 303)
    }

    @Test func sessionsExpireOnTheServersClock() async throws {
        let f = try ConsoleFixture()
        let (cookie, _) = try await f.login()
        f.clock.advance(by: ConsoleSessions.lifetime - 1)
        #expect(await f.request("GET", "/console", cookie: cookie).status == 200)
        f.clock.advance(by: 1)
        #expect(await f.request("GET", "/console", cookie: cookie).status == 303)
    }

    /// Every form that changes something is refused without its session's CSRF token.
    @Test(arguments: [
        ("/console/queries", [("name", "lost"), ("query", "connectivity.connected:false")]),
        ("/console/groups", [("name", "Lost"), ("savedQuery", "offline")]),
        ("/console/violations/0123456789abcdef0123456789abcdef/verification", [("state", "TRUE_POSITIVE")]),
        ("/console/logout", []),
    ])
    func formsNeedTheCSRFToken(_ target: String, _ fields: [(String, String)]) async throws {
        let f = try ConsoleFixture()
        let (cookie, csrf) = try await f.login()
        #expect(await f.request("POST", target, form: fields, cookie: cookie).status == 403)
        #expect(await f.request("POST", target, form: fields + [("csrf", String(csrf.reversed()))], cookie: cookie).status == 403)
        #expect(await f.request("POST", target, form: fields + [("csrf", csrf)]).status == 303, "no session: to the login page")
        #expect(!FileManager.default.fileExists(atPath: f.dir.appendingPathComponent("queries/lost.fq").path))
        // The session still works after refusals.
        #expect(await f.request("GET", "/console", cookie: cookie).status == 200)
    }

    @Test func securityHeadersAndNoInlineScript() async throws {
        let f = try ConsoleFixture()
        let (cookie, _) = try await f.login()
        for target in ["/console", "/console/things?query=*", "/console/things/pump-17", "/console/profiles/\(ConsoleFixture.profile)",
                       "/console/groups", "/console/alerts", "/console/login"] {
            let r = await f.request("GET", target, cookie: cookie)
            let csp = try #require(r.header("content-security-policy"), "\(target)")
            #expect(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"))
            #expect(r.header("x-frame-options") == "DENY")
            #expect(!r.body.contains("<script>") && !r.body.contains(" onclick=") && !r.body.contains(" style="), "\(target)")
        }
    }

    /// Values that can hold markup (a query, a shadow value, a saved query's description,
    /// a name in a path) are text. The registry refuses `<` in thing names
    /// ([a-zA-Z0-9:_-]), so a thing cannot be named `<script>alert(1)</script>`.
    @Test(arguments: [
        "/console/things?query=" + ConsoleFormat.percentEncode("thingName:\"<script>alert(1)</script>\""),
        "/console/things?query=" + ConsoleFormat.percentEncode("<script>alert(1)</script>"),
        "/console/things/pump-17",
        "/console/things/" + ConsoleFormat.percentEncode("<script>alert(1)</script>"),
        "/console/groups/" + ConsoleFormat.percentEncode("<script>alert(1)</script>"),
        "/console/" + ConsoleFormat.percentEncode("<script>alert(1)</script>"),
    ])
    func markupIsShownAsText(_ target: String) async throws {
        let f = try ConsoleFixture()
        let (cookie, _) = try await f.login()
        let r = await f.request("GET", target, cookie: cookie)
        #expect(!r.body.contains("<script>alert(1)</script>"), "\(target)")
        #expect(r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "\(target): \(r.status)")
    }

    @Test func savedQueryDescriptionIsEscaped() async throws {
        let f = try ConsoleFixture()
        let (cookie, csrf) = try await f.login()
        let saved = await f.request("POST", "/console/queries", form: [("csrf", csrf), ("name", "lost"), ("query", "connectivity.connected:false"),
                                                                       ("description", "<img src=x onerror=alert(1)>")], cookie: cookie)
        #expect(saved.status == 303)
        let page = await f.request("GET", try #require(saved.location), cookie: cookie)
        #expect(page.body.contains("&lt;img src=x onerror=alert(1)&gt;") && !page.body.contains("<img src=x"))
        #expect(page.body.contains("Saved query lost."))
    }

    @Test func searchShowsThingsConnectivityAndViolations() async throws {
        let f = try ConsoleFixture()
        let (cookie, _) = try await f.login()
        let r = await f.request("GET", "/console/things?query=" + ConsoleFormat.percentEncode("attributes.site:denver"), cookie: cookie)
        #expect(r.status == 200)
        #expect(r.body.contains(">pump-17</a>") && r.body.contains(">pump-18</a>") && !r.body.contains(">pump-19</a>"))
        // pump-17: disconnected at t0 + 1 min, the clock at t0 + 31 min.
        #expect(r.body.contains("<span class=\"disconnected\">disconnected</span> <span class=\"muted\" title=\"2026-11-28T10:01:00Z\">for 30 min</span>"))
        #expect(r.body.contains("(CONNECTION_LOST)"))
        #expect(r.body.contains("<span class=\"connected\">connected</span> <span class=\"muted\" title=\"2026-11-28T10:00:00Z\">for 31 min</span>"))
        #expect(ConsoleFixture.count("class=\"badge\"", in: r.body) == 1, "pump-17's one violation")
        #expect(r.body.contains("Disconnect_duration_5m · Disconnected_5m"))
    }

    @Test(arguments: [
        ("attributes.site:denver AND AND", "AND AND"),
        ("connectivity.bogus:true", "bogus"),
        ("attributes.site:(denver", "(denver"),
    ])
    func aQueryErrorHasItsCaret(_ query: String, _ part: String) async throws {
        let f = try ConsoleFixture()
        let (cookie, _) = try await f.login()
        let r = await f.request("GET", "/console/things?query=" + ConsoleFormat.percentEncode(query), cookie: cookie)
        let db = try FleetDatabase(path: f.database)
        var detail = ""
        do { _ = try Search(db).compile(query, at: ConsoleFixture.now) } catch let e as FleetError { detail = e.detail ?? "" }
        #expect(detail.contains("^"), "the engine renders a caret for \(query)")
        #expect(r.body.contains("<pre class=\"query-error\" id=\"query-error\">\(HTML.escape(detail))</pre>"), "\(r.body)")
        #expect(r.body.contains(HTML.escape(part)))
    }

    @Test func searchPagesWithTheEnginesNextToken() async throws {
        let f = try ConsoleFixture()
        let db = try FleetDatabase(path: f.database)
        for i in 0..<(SearchPage.pageSize + 7) {
            _ = try Registry(db).createThing(name: "valve-\(1000 + i)", typeName: nil, attributes: [("site", "reno")], at: ConsoleFixture.t0)
        }
        let (cookie, _) = try await f.login()
        var target: String? = "/console/things?query=" + ConsoleFormat.percentEncode("attributes.site:reno")
        var seen: [String] = []
        var pages = 0
        while let t = target, pages < 5 {
            let r = await f.request("GET", t, cookie: cookie)
            #expect(r.status == 200)
            for part in r.body.components(separatedBy: "class=\"thing-link\" href=\"/console/things/").dropFirst() {
                seen.append(String(part.prefix { $0 != "\"" }))
            }
            target = r.body.components(separatedBy: "id=\"next-page\" rel=\"next\" href=\"").dropFirst().first
                .map { String($0.prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&") }
            pages += 1
        }
        #expect(pages == 2)
        #expect(seen == (0..<(SearchPage.pageSize + 7)).map { "valve-\(1000 + $0)" })
    }

    @Test func explainIsBehindALink() async throws {
        let f = try ConsoleFixture()
        let (cookie, _) = try await f.login()
        let q = ConsoleFormat.percentEncode("attributes.site:denver")
        let plain = await f.request("GET", "/console/things?query=\(q)", cookie: cookie)
        #expect(plain.body.contains("id=\"explain-link\"") && !plain.body.contains("id=\"explain\""))
        let explained = await f.request("GET", "/console/things?query=\(q)&explain=1", cookie: cookie)
        #expect(explained.body.contains("<pre id=\"explain\">query:   attributes.site:denver"))
        #expect(explained.body.contains("sql:") && explained.body.contains("plan:"))
    }

    /// One bar per datapoint ListMetricValues has, for ranges that hold all, some and none.
    @Test(arguments: [
        ("2026-11-28T09:00:00Z", "2026-11-28T11:00:00Z"),
        ("2026-11-28T10:12:00Z", "2026-11-28T10:26:00Z"),
        ("2026-11-27T09:00:00Z", "2026-11-27T11:00:00Z"),
    ])
    func theChartHasOneBarPerDatapoint(_ from: String, _ to: String) async throws {
        let f = try ConsoleFixture()
        let (cookie, _) = try await f.login()
        let r = await f.request("GET", "/console/things/pump-17?from=\(from)&to=\(to)", cookie: cookie)
        #expect(r.status == 200)
        let chart = try #require(r.body.components(separatedBy: "<svg class=\"chart\" data-metric=\"aws:disconnect-duration\"").dropFirst().first?
            .components(separatedBy: "</svg>").first)
        let expected = try f.datapoints("pump-17", from: Timestamp.parse(from)!, to: Timestamp.parse(to)!)
        #expect(ConsoleFixture.count("<rect class=\"datapoint", in: chart) == expected)
        #expect(chart.contains("class=\"threshold\" data-threshold=\"5\""))
        if from.hasPrefix("2026-11-28T09") {
            #expect(expected == 6, "ticks 10:05 … 10:30")
            #expect(ConsoleFixture.count("class=\"datapoint violating\"", in: chart) == 5, "4, 9, 14, 19, 24, 29 minutes: five are 5 or more")
            #expect(chart.contains("data-type=\"in-alarm\""))
        }
    }

    @Test func theChartDefaultsToTheLastDayOfTheServersClock() async throws {
        let f = try ConsoleFixture()
        let (cookie, _) = try await f.login()
        let r = await f.request("GET", "/console/things/pump-17", cookie: cookie)
        #expect(r.body.contains("data-from=\"2026-11-27T10:31:00Z\" data-to=\"2026-11-28T10:31:00Z\""))
        #expect(ConsoleFixture.count("<rect class=\"datapoint", in: r.body) == 6)
        f.clock.advance(by: 2 * 86_400_000)
        let (again, _) = try await f.login()
        let later = await f.request("GET", "/console/things/pump-17", cookie: again)
        #expect(ConsoleFixture.count("<rect class=\"datapoint", in: later.body) == 0)
    }

    @Test func thingPageShowsRegistryShadowGroupsAndHistory() async throws {
        let f = try ConsoleFixture()
        let (cookie, _) = try await f.login()
        let r = await f.request("GET", "/console/things/pump-17?from=2026-11-28T09:00:00Z&to=2026-11-28T11:00:00Z", cookie: cookie)
        #expect(r.body.contains("<td>site</td><td>denver</td>") && r.body.contains("<dt>Type</dt><dd>Pump</dd>"))
        #expect(r.body.contains("<tr><td>plant-a</td><td>static</td>"))
        #expect(r.body.contains("&quot;temp&quot; : 71.5") || r.body.contains("&quot;temp&quot;: 71.5"))
        #expect(r.body.contains("id=\"violation-history\"") && r.body.contains("<td>in-alarm</td>"))
        let missing = await f.request("GET", "/console/things/pump-99", cookie: cookie)
        #expect(missing.status == 404)
    }

    @Test func profilePageAndMarkingAViolation() async throws {
        let f = try ConsoleFixture()
        let (cookie, csrf) = try await f.login()
        let path = "/console/profiles/\(ConsoleFixture.profile)"
        let r = await f.request("GET", path, cookie: cookie)
        #expect(r.body.contains("alert when aws:disconnect-duration &gt;= 5 at one datapoint"))
        #expect(r.body.contains("&quot;comparisonOperator&quot; : &quot;less-than&quot;") || r.body.contains("&quot;comparisonOperator&quot;: &quot;less-than&quot;"))
        #expect(r.body.contains("arn:aws:iot:us-east-1:123456789012:all/things"))
        #expect(r.body.contains("<a class=\"thing-link\" href=\"/console/things/pump-17\">pump-17</a>"))
        let id = try #require(r.body.components(separatedBy: "<tr data-violation=\"").dropFirst().first.map { String($0.prefix { $0 != "\"" }) })
        let marked = await f.request("POST", "/console/violations/\(id)/verification", form: [("csrf", csrf), ("state", "TRUE_POSITIVE"), ("back", path)], cookie: cookie)
        #expect(marked.status == 303 && marked.location == path + "?marked=TRUE_POSITIVE")
        let db = try FleetDatabase(path: f.database)
        let active = try Defender(db).listActiveViolations(thingName: "pump-17", profile: nil, criteriaType: nil, verificationState: nil, maxResults: nil, nextToken: nil)
        #expect(active["activeViolations"]?.arrayValue?.first?["verificationState"]?.stringValue == "TRUE_POSITIVE")
        let bad = await f.request("POST", "/console/violations/\(id)/verification", form: [("csrf", csrf), ("state", "MAYBE")], cookie: cookie)
        #expect(bad.status == 400)
    }

    @Test func aDynamicGroupFromASavedQuery() async throws {
        let f = try ConsoleFixture()
        let (cookie, csrf) = try await f.login()
        let saved = await f.request("POST", "/console/queries", form: [("csrf", csrf), ("name", "denver-lost"),
                                                                       ("query", "attributes.site:denver AND connectivity.connected:false")], cookie: cookie)
        #expect(saved.status == 303)
        let list = await f.request("GET", "/console/groups", cookie: cookie)
        #expect(list.body.contains("<option value=\"denver-lost\">"))
        let made = await f.request("POST", "/console/groups", form: [("csrf", csrf), ("name", "Denver_lost"), ("savedQuery", "denver-lost")], cookie: cookie)
        #expect(made.status == 303 && made.location == "/console/groups/Denver_lost")
        let g = await f.request("GET", "/console/groups/Denver_lost", cookie: cookie)
        #expect(g.body.contains("<ul id=\"members\"><li><a class=\"thing-link\" href=\"/console/things/pump-17\">pump-17</a></li></ul>"))
        #expect(g.body.contains("<dd id=\"member-count\">1</dd>"))
        #expect(g.body.contains("<td>joined</td><td><a href=\"/console/things/pump-17\">pump-17</a></td>"))
        let again = await f.request("POST", "/console/groups", form: [("csrf", csrf), ("name", "Denver_lost"), ("savedQuery", "denver-lost")], cookie: cookie)
        #expect(again.status == 400 && again.body.contains("class=\"error\""))
        let unsaved = await f.request("POST", "/console/queries", form: [("csrf", csrf), ("name", "broken"), ("query", "a AND AND")], cookie: cookie)
        #expect(unsaved.status == 400, "a query that does not compile is not saved")
    }

    @Test func alertsAndOverview() async throws {
        let f = try ConsoleFixture()
        let (cookie, _) = try await f.login()
        let alerts = await f.request("GET", "/console/alerts", cookie: cookie)
        #expect(alerts.body.contains("arn:aws:sns:us-east-1:123456789012:\(ConsoleFixture.topicName)"))
        // The in-alarm alert went SNS → SQS: one visible message, and reading the page twice leaves it there.
        #expect(alerts.body.contains("<tr data-queue=\"Disconnect_thing_notification_queue\"><td>Disconnect_thing_notification_queue</td><td class=\"visible\">1</td>"))
        let again = await f.request("GET", "/console/alerts", cookie: cookie)
        #expect(again.body.contains("<td class=\"visible\">1</td>"))
        // The peek shows the message (escaped, never received) and leaves it visible and unreceived.
        #expect(again.body.components(separatedBy: "<tr class=\"message\">").count == 2)
        #expect(again.body.contains("{&quot;Type&quot;:&quot;Notification&quot;"), "the SNS envelope, escaped")
        #expect(again.body.contains("</td><td>0</td><td><pre class=\"body\">"), "no receive counted")
        let received = try Notifications(try FleetDatabase(path: f.database)).receiveMessage(url: "Disconnect_thing_notification_queue", max: 1, visibilityTimeout: nil, wait: 0, at: ConsoleFixture.now)
        #expect(received["Messages"]?.arrayValue?.count == 1, "still there to receive")
        let o = await f.request("GET", "/console", cookie: cookie)
        #expect(o.body.contains("<dd id=\"connected-count\"><a href=\"/console/things?query=connectivity.connected%3Atrue\">1</a></dd>"))
        #expect(o.body.contains("<dd id=\"disconnected-count\"><a href=\"/console/things?query=connectivity.connected%3Afalse\">2</a></dd>"))
        #expect(o.body.contains("<td class=\"violations\"><a href=\"/console/things?query=deviceDefender.Disconnect_duration_5m.%2A.inViolation%3Atrue\">1</a></td>"))
        // 30 minutes: the 5 min – 1 h bucket; pump-19 never connected.
        let counts = o.body.components(separatedBy: "<td class=\"bucket-count\">").dropFirst().map { part -> String in
            let inner = part.components(separatedBy: "\">").dropFirst().first ?? ""
            return String(inner.prefix { $0 != "<" })
        }
        #expect(counts == ["0", "1", "0", "0", "0", "0", "1"])
        #expect(o.body.contains("<td>CONNECTION_LOST</td><td>1</td>"))
    }

    @Test func formBodiesAreLimited() async throws {
        let f = try ConsoleFixture()
        let (cookie, csrf) = try await f.login()
        let big = "csrf=\(csrf)&name=x&query=" + String(repeating: "a", count: ConsoleRequest.maxFormBytes)
        let r = await f.request("POST", "/console/queries", body: big, cookie: cookie)
        #expect(r.status == 413)
    }

    /// A certificate attached to the thing, and the policy attached to the certificate, through
    /// the wire operations' handlers; the page names them and never shows a key.
    @Test func thingPageShowsCertificatesAndPolicies() async throws {
        let f = try ConsoleFixture()
        let db = try FleetDatabase(path: f.database)
        func call(_ op: String, _ members: [(String, JSONValue?)]) throws -> JSONValue {
            let handler = try #require(Operations.handler(service: "iot", operation: op))
            return try handler(OperationContext(db: db, now: ConsoleFixture.now, endpointAddress: "localhost"), OperationInput(jsonObject(members)))
        }
        let cert = try call("CreateKeysAndCertificate", [("setAsActive", .bool(true))])
        let arn = try #require(cert["certificateArn"]?.stringValue)
        _ = try call("CreatePolicy", [("policyName", .string("pump_policy")),
                                      ("policyDocument", .string(#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}"#))])
        _ = try call("AttachPolicy", [("policyName", .string("pump_policy")), ("target", .string(arn))])
        _ = try call("AttachThingPrincipal", [("thingName", .string("pump-17")), ("principal", .string(arn))])
        let (cookie, _) = try await f.login()
        let r = await f.request("GET", "/console/things/pump-17", cookie: cookie)
        #expect(r.body.contains("<tr><td>\(arn)</td><td>ACTIVE</td><td>pump_policy</td></tr>"), "\(r.body)")
        #expect(!r.body.contains("PRIVATE KEY") && !r.body.contains(cert["keyPair"]?["PrivateKey"]?.stringValue ?? "(no key)"))
    }
}
