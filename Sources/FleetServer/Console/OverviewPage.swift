// FleetServer console: the fleet at a glance: things connected and disconnected, things in
// violation per security profile, a histogram of how long the disconnected things have
// been disconnected (ranges of connectivity.timestamp relative to the server's clock) and
// their disconnect reasons, all from Aggregations.summary, which reads small indexes only.
import FleetIndex
import FleetQuery

/// The overview page.
enum OverviewPage {
    /// Disconnected for: the ages that divide the ranges (the query language's `now-…`), from
    /// the youngest, and one label per range (one more than the ages).
    static let ages = ["5m", "1h", "1d", "7d", "30d"]
    static let labels = ["< 5 min", "5 min – 1 h", "1 h – 24 h", "1 d – 7 d", "7 d – 30 d", "≥ 30 d"]

    /// The query of range `i` (the link to its things).
    static func rangeQuery(_ i: Int) -> String {
        if i == 0 { return "connectivity.timestamp>=now-\(ages[0])" }
        if i == ages.count { return "connectivity.timestamp<now-\(ages[i - 1])" }
        return "connectivity.timestamp<now-\(ages[i - 1]) AND connectivity.timestamp>=now-\(ages[i])"
    }

    static func render(_ c: ConsoleContext) throws -> WireResponse {
        let a = try Aggregations(c.db)
        // One summary from small indexes (Aggregations.summary): the connected are all but the
        // disconnected; the histogram's boundaries ascend from the oldest (now-30d) to the
        // newest (now-5m), so its counts come longest-disconnected first.
        let binder = Binder(now: c.now)
        let summary = try a.summary(boundaries: ages.reversed().compactMap { binder.relativeTime("now-" + $0) })
        let disconnected = summary.disconnected
        let connected = max(0, summary.things - disconnected)
        func link(_ query: String, _ text: HTML) -> HTML { "<a href=\"\(ConsoleFormat.url("/console/things", [("query", query)]))\">\(text)</a>" }
        var body: HTML = """
            <h1>Fleet overview</h1><section class="panel"><dl class="facts">
            <dt>Connected</dt><dd id="connected-count">\(link("connectivity.connected:true", "\(connected)"))</dd>
            <dt>Disconnected</dt><dd id="disconnected-count">\(link("connectivity.connected:false", "\(disconnected)"))</dd>
            <dt>Things</dt><dd>\(connected + disconnected)</dd></dl></section>
            """
        let profiles = try Defender(c.db).attachedProfiles()
        let rows = try profiles.map { p -> HTML in
            let q = "deviceDefender.\(p.name).*.inViolation:true"
            return "<tr><td><a href=\"\(ConsoleFormat.path("profiles", p.name))\">\(p.name)</a></td><td class=\"violations\">\(link(q, "\(summary.violating[p.name] ?? 0)"))</td></tr>"
        }
        body += "<section class=\"panel\"><h2>Things in violation, by security profile</h2>"
        body += rows.isEmpty ? "<p class=\"muted\">No attached security profile.</p>"
            : "<table id=\"violations-by-profile\"><thead><tr><th>Profile</th><th>Things in violation</th></tr></thead><tbody>\(rows)</tbody></table>"
        body += "</section>"
        var buckets: [(String, String, Int64)] = []
        for (i, n) in summary.disconnectedByTime.reversed().enumerated() {
            buckets.append((labels[i], "connectivity.connected:false AND " + rangeQuery(i), n))
        }
        buckets.append(("never connected", "connectivity.connected:false AND NOT connectivity.timestamp:*", summary.neverConnected))
        body += "<section class=\"panel\"><h2>Disconnected for</h2>\(histogram(buckets))"
        let rowsHTML = buckets.map { "<tr><td>\($0.0)</td><td class=\"bucket-count\">\(link($0.1, "\($0.2)"))</td></tr>" as HTML }
        body += "<table id=\"disconnect-durations\"><thead><tr><th>Disconnected for</th><th>Things</th></tr></thead><tbody>\(rowsHTML)</tbody></table>"
        let rr = summary.reasons.prefix(10).map { "<tr><td>\($0.reason)</td><td>\($0.count)</td></tr>" as HTML }
        if !rr.isEmpty {
            body += "<h3>Disconnect reasons</h3><table id=\"disconnect-reasons\"><thead><tr><th>Reason</th><th>Things</th></tr></thead><tbody>\(HTML.join(Array(rr)))</tbody></table>"
        }
        body += "</section>"
        return ConsoleLayout.page("Overview", section: "overview", body: body, session: c.session, refresh: 30)
    }

    /// Bars, one per range, scaled to the largest.
    static func histogram(_ buckets: [(String, String, Int64)]) -> HTML {
        let width = 960.0, barArea = 150.0, top = 22.0
        let most = Double(max(1, buckets.map(\.2).max() ?? 1))
        let slot = (width - 20) / Double(max(1, buckets.count))
        var parts: [HTML] = []
        for (i, b) in buckets.enumerated() {
            let h = Double(b.2) / most * barArea
            let x = 10 + Double(i) * slot
            parts.append("""
                <rect class="bucket" x="\(x + 6)" y="\(top + barArea - h)" width="\(slot - 12)" height="\(h)"><title>\(b.0): \(b.2)</title></rect>
                <text x="\(x + slot / 2)" y="\(top + barArea + 16)" text-anchor="middle">\(b.0)</text>
                <text x="\(x + slot / 2)" y="\(max(top + 10, top + barArea - h - 4))" text-anchor="middle">\(b.2)</text>
                """)
        }
        return "<svg class=\"chart\" id=\"disconnect-histogram\" viewBox=\"0 0 \(width) \(top + barArea + 26)\" role=\"img\" aria-label=\"disconnect durations\" xmlns=\"http://www.w3.org/2000/svg\">\(parts)</svg>"
    }
}
