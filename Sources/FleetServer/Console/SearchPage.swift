// FleetServer console: Things / Advanced search: the query box, a page of results from
// `search-index` (its nextToken for the next page), a query error with its caret as the CLI
// prints it, "Save query", the saved queries, and the `--explain` plan behind a link.
import FleetIndex

/// The search page and saving a query.
enum SearchPage {
    static let pageSize = 50

    static func render(_ c: ConsoleContext) throws -> WireResponse {
        let raw = c.request.query["query"] ?? ""
        var body: HTML = """
            <h1>Things</h1><section class="panel"><h2>Advanced search</h2>
            <form method="get" action="/console/things" id="search">
            <input class="query" type="text" name="query" value="\(raw)" placeholder="connectivity.connected:false AND attributes.site:denver" aria-label="query">
            <button type="submit">Search</button></form>
            <p class="muted">The fleet query language; <code>@name</code> runs a saved query.</p></section>
            """
        if let saved = c.request.param("saved") {
            body += "<p class=\"notice\" id=\"saved-notice\">Saved query \(saved).</p>"
        }
        if !ConsoleFormat.trim(raw).isEmpty {
            body += try results(c, raw: raw)
        }
        body += savedList(c)
        return ConsoleLayout.page("Things", section: "things", body: body, session: c.session)
    }

    /// The results of `raw` (a query or `@saved`), or the error with its caret.
    static func results(_ c: ConsoleContext, raw: String) throws -> HTML {
        let text: String
        do { text = try c.queries.resolve(raw) } catch let e as FleetError {
            return "<section class=\"panel\"><p class=\"error\">\(e.message)</p></section>"
        }
        let search = Search(c.db)
        let next = c.request.param("next")
        let answer: JSONValue
        do {
            answer = try search.searchIndex(indexName: nil, query: text, maxResults: pageSize, nextToken: next, at: c.now)
        } catch let e as FleetError where e.code == .invalidQuery || e.code == .invalidRequest {
            let detail = e.detail ?? e.message
            return "<section class=\"panel\"><h2>Query error</h2><pre class=\"query-error\" id=\"query-error\">\(detail)</pre></section>"
        }
        let things = answer["things"]?.arrayValue ?? []
        var rows: [HTML] = []
        for t in things {
            rows.append(row(t, now: c.now))
        }
        var out: HTML = "<section class=\"panel\" id=\"results\"><h2>Results</h2>"
        if text != raw { out += "<p class=\"muted\">\(raw) is <code>\(text)</code></p>" }
        if rows.isEmpty {
            out += "<p class=\"muted\" id=\"no-results\">No thing matches.</p>"
        } else {
            out += """
                <table id="things"><thead><tr><th>Name</th><th>Type</th><th>Connectivity</th><th>Active violations</th></tr></thead>
                <tbody>\(rows)</tbody></table>
                """
        }
        var links: [HTML] = []
        if next != nil { links.append("<a href=\"\(ConsoleFormat.url("/console/things", [("query", raw)]))\">First page</a>") }
        if let token = answer["nextToken"]?.stringValue {
            links.append("<a id=\"next-page\" rel=\"next\" href=\"\(ConsoleFormat.url("/console/things", [("query", raw), ("next", token)]))\">Next page</a>")
        }
        links.append("<a id=\"explain-link\" href=\"\(ConsoleFormat.url("/console/things", [("query", raw), ("explain", "1")]))\">Query plan (--explain)</a>")
        out += "<nav class=\"pages\">\(HTML.join(links, separator: " · "))</nav>"
        if c.request.param("explain") != nil {
            out += "<h2>Query plan</h2><pre id=\"explain\">\(try search.explain(text, at: c.now))</pre>"
        }
        out += """
            <h2>Save query</h2><form method="post" action="/console/queries" id="save-query">\(c.csrfField)
            <input type="hidden" name="query" value="\(text)">
            <input type="text" name="name" placeholder="name ([a-zA-Z0-9_-])" aria-label="saved query name" required>
            <input type="text" name="description" placeholder="description" aria-label="description">
            <button type="submit">Save query</button></form></section>
            """
        return out
    }

    /// One result: name, type, connectivity and the time since it last changed, violations.
    static func row(_ t: JSONValue, now: Int64) -> HTML {
        let name = t["thingName"]?.stringValue ?? ""
        let type = t["thingTypeName"]?.stringValue ?? ""
        return "<tr><td><a class=\"thing-link\" href=\"\(ConsoleFormat.path("things", name))\">\(name)</a></td><td>\(type)</td>"
            + "<td>\(connectivity(t["connectivity"], now: now))</td><td>\(violationBadges(t["deviceDefender"]))</td></tr>"
    }

    static func connectivity(_ c: JSONValue?, now: Int64) -> HTML {
        guard let c else { return "<span class=\"muted\">not indexed</span>" }
        let connected = c["connected"]?.boolValue ?? false
        let since: HTML = c["timestamp"]?.int64Value.map { " <span class=\"muted\" title=\"\(ConsoleFormat.time($0))\">for \(ConsoleFormat.duration(now - $0))</span>" }
            ?? (connected ? "" : " <span class=\"muted\">never connected</span>")
        let reason: HTML = c["disconnectReason"]?.stringValue.map { " <span class=\"muted\">(\($0))</span>" } ?? ""
        return connected ? "<span class=\"connected\">connected</span>\(since)" : "<span class=\"disconnected\">disconnected</span>\(since)\(reason)"
    }

    /// The deviceDefender member (a JSON string): one badge per behavior in violation.
    static func violationBadges(_ d: JSONValue?) -> HTML {
        guard let text = d?.stringValue, let v = try? JSONValue.parse(text) else { return "" }
        var badges: [HTML] = []
        for profile in v["securityprofiles"]?.objectValue ?? [] {
            for behavior in profile.value.objectValue ?? [] where behavior.value["inViolation"]?.boolValue == true {
                badges.append("<a class=\"badge\" href=\"\(ConsoleFormat.path("profiles", profile.key))\">\(profile.key) · \(behavior.key)</a>")
            }
        }
        return HTML.join(badges)
    }

    static func savedList(_ c: ConsoleContext) -> HTML {
        let entries = c.queries.list()
        guard !entries.isEmpty else { return "" }
        let rows = entries.map { e -> HTML in
            let shipped: HTML = e.shipped ? " <span class=\"muted\">(shipped)</span>" : ""
            return "<tr><td><a class=\"saved-query\" href=\"\(ConsoleFormat.url("/console/things", [("query", e.query)]))\">\(e.name)</a>\(shipped)</td>"
                + "<td>\(e.description)</td><td><code>\(e.query)</code></td></tr>"
        }
        return """
            <section class="panel" id="saved-queries"><h2>Saved queries</h2>
            <table><thead><tr><th>Name</th><th>Description</th><th>Query</th></tr></thead><tbody>\(rows)</tbody></table></section>
            """
    }

    /// POST /console/queries: saves the query (checked first: a query that does not compile
    /// is not saved).
    static func save(_ c: ConsoleContext) throws -> WireResponse {
        let name = ConsoleFormat.trim(c.request.form["name"] ?? "")
        let query = ConsoleFormat.trim(c.request.form["query"] ?? "")
        let description = c.request.form["description"].map(ConsoleFormat.trim).flatMap { $0.isEmpty ? nil : $0 }
        guard !query.isEmpty else { throw FleetError.invalid("the query to save is empty") }
        _ = try Search(c.db).compile(query, at: c.now, plan: false)
        try c.queries.save(name, query: query, description: description)
        return ConsoleLayout.redirect(ConsoleFormat.url("/console/things", [("query", query), ("saved", name)]))
    }
}
