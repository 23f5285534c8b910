// FleetServer console: dynamic thing groups: the list with member counts (the group
// report), "create from a saved query", and a group's members (paged) with its join and
// leave history and the reasons.
import FleetIndex

/// The dynamic group pages.
enum GroupsPage {
    static let pageSize = 100
    static let week: Int64 = 7 * 86_400_000

    static func list(_ c: ConsoleContext, error: String?) throws -> WireResponse {
        let report = try DynamicGroups(c.db).report(group: nil, since: c.now)
        let rows = (report["groups"]?.arrayValue ?? []).map { g -> HTML in
            let name = g["thingGroupName"]?.stringValue ?? ""
            return "<tr><td><a class=\"group-link\" href=\"\(ConsoleFormat.path("groups", name))\">\(name)</a></td><td><code>\(g["queryString"]?.stringValue ?? "")</code></td>"
                + "<td>\(g["status"]?.stringValue ?? "")</td><td class=\"member-count\">\(ConsoleFormat.value(g["memberCount"]))</td></tr>"
        }
        let options = c.queries.list().map { "<option value=\"\($0.name)\">\($0.name): \($0.query)</option>" as HTML }
        let problem: HTML = error.map { "<p class=\"error\">\($0)</p>" } ?? ""
        let table: HTML = rows.isEmpty ? "<p class=\"muted\">No dynamic group.</p>"
            : "<table id=\"dynamic-groups\"><thead><tr><th>Group</th><th>Query</th><th>Status</th><th>Members</th></tr></thead><tbody>\(rows)</tbody></table>"
        let body: HTML = """
            <h1>Dynamic groups</h1><section class="panel">\(table)</section>
            <section class="panel"><h2>Create from a saved query</h2>\(problem)
            <form method="post" action="/console/groups" id="create-group">\(c.csrfField)
            <input type="text" name="name" placeholder="group name" aria-label="group name" required>
            <select name="savedQuery" aria-label="saved query">\(options)</select>
            <button type="submit">Create dynamic group</button></form></section>
            """
        return ConsoleLayout.page("Dynamic groups", section: "groups", body: body, session: c.session, status: error == nil ? 200 : 400)
    }

    /// POST /console/groups (name, savedQuery).
    static func create(_ c: ConsoleContext) throws -> WireResponse {
        let name = ConsoleFormat.trim(c.request.form["name"] ?? "")
        let saved = c.request.form["savedQuery"] ?? ""
        do {
            let entry = try c.queries.get(saved)
            _ = try DynamicGroups(c.db).createDynamicThingGroup(name: name, query: entry.query, indexName: nil, queryVersion: nil,
                                                                properties: jsonObject([("thingGroupDescription", .string("saved query \(entry.name)"))]), at: c.now)
        } catch let e as FleetError {
            return try list(c, error: e.message)
        }
        return ConsoleLayout.redirect(ConsoleFormat.path("groups", name))
    }

    static func render(_ c: ConsoleContext, group name: String) throws -> WireResponse {
        let since: Int64
        if let text = c.request.param("since"), let t = Timestamp.parse(text) { since = t } else { since = c.now - week }
        let report = try DynamicGroups(c.db).report(group: name, since: since)
        guard let g = report["groups"]?.arrayValue?.first else { throw FleetError.notFound("Dynamic group \(name) cannot be found.") }
        let next = c.request.param("next")
        let members = try Registry(c.db).listThingsInThingGroup(group: name, recursive: false, maxResults: pageSize, nextToken: next)
        let things = (members["things"]?.arrayValue ?? []).compactMap(\.stringValue)
        var body: HTML = """
            <h1>\(name)</h1><section class="panel"><dl class="facts"><dt>Query</dt><dd><code id="group-query">\(g["queryString"]?.stringValue ?? "")</code></dd>
            <dt>Status</dt><dd>\(g["status"]?.stringValue ?? "")</dd><dt>Members</dt><dd id="member-count">\(ConsoleFormat.value(g["memberCount"]))</dd></dl></section>
            <section class="panel"><h2>Members</h2>
            """
        body += things.isEmpty ? "<p class=\"muted\">No member.</p>" as HTML
            : "<ul id=\"members\">\(things.map { "<li><a class=\"thing-link\" href=\"\(ConsoleFormat.path("things", $0))\">\($0)</a></li>" as HTML })</ul>"
        if let token = members["nextToken"]?.stringValue {
            body += "<nav class=\"pages\"><a id=\"next-page\" href=\"\(ConsoleFormat.url(ConsoleFormat.path("groups", name), [("next", token)]))\">Next page</a></nav>"
        }
        body += "</section>"
        var log: [(String, String, String, String)] = []
        for (kind, key) in [("joined", "joined"), ("left", "left")] {
            for e in g[key]?.arrayValue ?? [] {
                log.append((e["time"]?.stringValue ?? "", kind, e["thingName"]?.stringValue ?? "", e["reason"]?.stringValue ?? ""))
            }
        }
        log.sort { ($0.0, $0.1) > ($1.0, $1.1) }
        let shown = log.prefix(500)
        let rows = shown.map { "<tr class=\"\($0.1)\"><td>\(ConsoleFormat.time($0.0))</td><td>\($0.1)</td><td><a href=\"\(ConsoleFormat.path("things", $0.2))\">\($0.2)</a></td><td>\($0.3)</td></tr>" as HTML }
        body += """
            <section class="panel"><h2>Joins and leaves since \(ConsoleFormat.time(since))</h2>
            \(rows.isEmpty ? "<p class=\"muted\">None.</p>" as HTML : "<table id=\"group-history\"><thead><tr><th>Time</th><th>Change</th><th>Thing</th><th>Reason</th></tr></thead><tbody>\(rows)</tbody></table>")
            \(log.count > shown.count ? "<p class=\"muted\">the newest 500 of \(log.count)</p>" as HTML : "")</section>
            """
        return ConsoleLayout.page(name, section: "groups", body: body, session: c.session, refresh: 30)
    }
}
