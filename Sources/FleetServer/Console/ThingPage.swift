// FleetServer console: one thing: registry facts, groups (static and dynamic), shadows,
// connectivity, certificates and their policies, and the Defender metrics its profiles
// watch as charts over `?from=&to=` (default: the 24 hours before the server's clock), with
// the violation history on the same axis.
import FleetDevices
import FleetIndex
import Foundation

/// The thing page.
enum ThingPage {
    static let day: Int64 = 86_400_000

    static func render(_ c: ConsoleContext, thing name: String) throws -> WireResponse {
        let registry = Registry(c.db)
        let described = try registry.describeThing(name: name)
        let (from, to, rangeError) = range(c)
        var body: HTML = "<h1>\(name)</h1>"
        body += facts(described, document: try document(c, name), now: c.now)
        body += try groups(c, name)
        body += try shadows(c, name)
        body += try principals(c, name)
        body += rangeForm(name, from: from, to: to, error: rangeError)
        body += try metrics(c, name, arn: described["thingArn"]?.stringValue ?? c.db.thingARN(name), from: from, to: to)
        return ConsoleLayout.page(name, section: "things", body: body, session: c.session)
    }

    /// `?from=&to=` (ISO 8601 or epoch), else the last 24 hours; a bad one is named and the
    /// default used.
    static func range(_ c: ConsoleContext) -> (Int64, Int64, String?) {
        var problem: String?
        func read(_ key: String) -> Int64? {
            guard let text = c.request.param(key) else { return nil }
            do { return try Timestamp.read(text) } catch let e { problem = "\(key) '\(text)': \(e)"; return nil }
        }
        let to = read("to") ?? c.now
        let from = read("from") ?? to - day
        guard from < to else { return (c.now - day, c.now, "from must be before to") }
        guard to - from <= 31 * day else { return (to - 31 * day, to, "the range is at most 31 days") }
        return (from, to, problem)
    }

    /// The thing's search document (connectivity, violations), by an exact name query.
    static func document(_ c: ConsoleContext, _ name: String) throws -> JSONValue? {
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let r = try? Search(c.db).searchIndex(indexName: nil, query: "thingName:\"\(escaped)\"", maxResults: 5, nextToken: nil, at: c.now)
        return r?["things"]?.arrayValue?.first { $0["thingName"]?.stringValue == name }
    }

    static func facts(_ d: JSONValue, document: JSONValue?, now: Int64) -> HTML {
        var rows: [HTML] = [
            "<dt>Type</dt><dd>\(d["thingTypeName"]?.stringValue ?? "—")</dd>",
            "<dt>ARN</dt><dd>\(d["thingArn"]?.stringValue ?? "")</dd>",
            "<dt>Thing id</dt><dd>\(d["thingId"]?.stringValue ?? "")</dd>",
            "<dt>Version</dt><dd>\(ConsoleFormat.value(d["version"]))</dd>",
        ]
        if let doc = document {
            rows.append("<dt>Connectivity</dt><dd id=\"connectivity\">\(SearchPage.connectivity(doc["connectivity"], now: now))</dd>")
            let badges = SearchPage.violationBadges(doc["deviceDefender"])
            rows.append("<dt>Active violations</dt><dd>\(badges == .empty ? "none" : badges)</dd>")
        }
        let attrs = (d["attributes"]?.objectValue ?? []).map { "<tr><td>\($0.key)</td><td>\(ConsoleFormat.value($0.value))</td></tr>" as HTML }
        let attrTable: HTML = attrs.isEmpty ? "<p class=\"muted\">No attributes.</p>"
            : "<table id=\"attributes\"><thead><tr><th>Attribute</th><th>Value</th></tr></thead><tbody>\(attrs)</tbody></table>"
        return "<section class=\"panel\"><dl class=\"facts\">\(rows)</dl><h2>Attributes</h2>\(attrTable)</section>"
    }

    static func groups(_ c: ConsoleContext, _ name: String) throws -> HTML {
        let registry = Registry(c.db)
        var names: [String] = []
        var token: String?
        repeat {
            let page = try registry.listThingGroupsForThing(thingName: name, maxResults: 250, nextToken: token)
            names += (page["thingGroups"]?.arrayValue ?? []).compactMap { $0["groupName"]?.stringValue }
            token = page["nextToken"]?.stringValue
        } while token != nil && names.count < 1000
        guard !names.isEmpty else { return "<section class=\"panel\"><h2>Groups</h2><p class=\"muted\">In no group.</p></section>" }
        let rows = try names.map { g -> HTML in
            let d = try registry.describeThingGroup(name: g)
            if let q = d["queryString"]?.stringValue {
                return "<tr><td><a href=\"\(ConsoleFormat.path("groups", g))\">\(g)</a></td><td>dynamic</td><td><code>\(q)</code></td></tr>"
            }
            return "<tr><td>\(g)</td><td>static</td><td>\(d["thingGroupMetadata"]?["parentGroupName"]?.stringValue.map { "parent " + $0 } ?? "")</td></tr>"
        }
        return "<section class=\"panel\"><h2>Groups</h2><table id=\"groups\"><thead><tr><th>Group</th><th>Kind</th><th></th></tr></thead><tbody>\(rows)</tbody></table></section>"
    }

    static func shadows(_ c: ConsoleContext, _ name: String) throws -> HTML {
        let registry = Registry(c.db)
        var parts: [HTML] = []
        if let classic = try? registry.getThingShadow(thingName: name, shadowName: nil) {
            parts.append("<h3>Classic shadow</h3><pre class=\"shadow\">\(classic.pretty)</pre>")
        }
        let named = try registry.listNamedShadowsForThing(thingName: name, pageSize: 100, nextToken: nil, at: c.now)
        for n in (named["results"]?.arrayValue ?? []).compactMap(\.stringValue) {
            if let doc = try? registry.getThingShadow(thingName: name, shadowName: n) {
                parts.append("<h3>Named shadow \(n)</h3><pre class=\"shadow\">\(doc.pretty)</pre>")
            }
        }
        if parts.isEmpty { parts.append("<p class=\"muted\">No shadow.</p>") }
        return "<section class=\"panel\" id=\"shadows\"><h2>Shadows</h2>\(parts)</section>"
    }

    /// Certificates attached to the thing and the policies attached to them (never a key).
    static func principals(_ c: ConsoleContext, _ name: String) throws -> HTML {
        let list = try Certificates(c.db).listThingPrincipals(thingName: name, maxResults: 250, nextToken: nil)
        let arns = (list["principals"]?.arrayValue ?? []).compactMap(\.stringValue)
        guard !arns.isEmpty else { return "<section class=\"panel\"><h2>Certificates</h2><p class=\"muted\">No principal attached.</p></section>" }
        let rows = try arns.map { arn -> HTML in
            var status = ""
            if let slash = arn.lastIndex(of: "/"), arn.contains(":cert/") {
                let id = String(arn[arn.index(after: slash)...])
                status = (try? Certificates(c.db).describeCertificate(id: id))?["certificateDescription"]?["status"]?.stringValue ?? ""
            }
            let policies = try Policies(c.db).listAttachedPolicies(target: arn, recursive: false, pageSize: 250, marker: nil)
            let names = (policies["policies"]?.arrayValue ?? []).compactMap { $0["policyName"]?.stringValue }
            return "<tr><td>\(arn)</td><td>\(status)</td><td>\(names.joined(separator: ", "))</td></tr>"
        }
        return "<section class=\"panel\"><h2>Certificates</h2><table id=\"principals\"><thead><tr><th>Principal</th><th>Status</th><th>Policies</th></tr></thead><tbody>\(rows)</tbody></table></section>"
    }

    static func rangeForm(_ name: String, from: Int64, to: Int64, error: String?) -> HTML {
        let quick = [("1 h", 3_600_000 as Int64), ("6 h", 6 * 3_600_000), ("24 h", day), ("7 d", 7 * day)].map { label, span -> HTML in
            "<a href=\"\(ConsoleFormat.url(ConsoleFormat.path("things", name), [("from", ConsoleFormat.time(to - span)), ("to", ConsoleFormat.time(to))]))\">\(label)</a>"
        }
        let problem: HTML = error.map { "<p class=\"error\">\($0)</p>" } ?? ""
        return """
            <section class="panel"><h2>Defender metrics</h2>\(problem)
            <form method="get" action="\(ConsoleFormat.path("things", name))" id="range">
            <label>From <input type="text" name="from" value="\(ConsoleFormat.time(from))"></label>
            <label>To <input type="text" name="to" value="\(ConsoleFormat.time(to))"></label>
            <button type="submit">Show</button> <span class="muted">last \(HTML.join(quick, separator: " · ")) before the end</span></form></section>
            """
    }

    /// The profiles that monitor the thing: targets all things, registered things, or one of
    /// its groups (or a group above them).
    static func profiles(_ c: ConsoleContext, _ name: String) throws -> [Defender.Profile] {
        let defender = Defender(c.db)
        var arns = [c.db.iotARN("all/things"), c.db.iotARN("all/registered-things")]
        let groups = try Registry(c.db).listThingGroupsForThing(thingName: name, maxResults: 250, nextToken: nil)
        arns += (groups["thingGroups"]?.arrayValue ?? []).compactMap { $0["groupArn"]?.stringValue }
        var names = Set<String>()
        for arn in arns {
            let m = try defender.listSecurityProfilesForTarget(targetARN: arn, recursive: true)
            for x in m["securityProfileTargetMappings"]?.arrayValue ?? [] {
                if let n = x["securityProfileIdentifier"]?["name"]?.stringValue { names.insert(n) }
            }
        }
        return try defender.attachedProfiles().filter { names.contains($0.name) }
    }

    static func metrics(_ c: ConsoleContext, _ name: String, arn: String, from: Int64, to: Int64) throws -> HTML {
        let defender = Defender(c.db)
        let monitoring = try profiles(c, name)
        var metrics = ["aws:disconnect-duration"]
        for p in monitoring {
            for m in p.behaviors.map(\.metric) + p.retained.sorted() where !metrics.contains(m) { metrics.append(m) }
        }
        // The violation history in the range (every page of it, up to 2,000 events).
        var events: [(JSONValue)] = []
        var token: String?
        repeat {
            let page = try defender.listViolationEvents(start: from, end: to, thingName: name, profile: nil, criteriaType: nil,
                                                        verificationState: nil, maxResults: 250, nextToken: token)
            events += page["violationEvents"]?.arrayValue ?? []
            token = page["nextToken"]?.stringValue
        } while token != nil && events.count < 2000
        var out: [HTML] = []
        for metric in metrics {
            var points: [(Int64, Double)] = []
            var t: String?
            repeat {
                let page = try defender.listMetricValues(thingName: name, metric: metric, start: from, end: to, dimension: nil, maxResults: 10_000, nextToken: t)
                for d in page["metricDatumList"]?.arrayValue ?? [] {
                    if let ts = d["timestamp"]?.stringValue.flatMap(Timestamp.parse), let v = d["value"]?["count"]?.doubleValue { points.append((ts, v)) }
                }
                t = page["nextToken"]?.stringValue
            } while t != nil
            let behaviors = monitoring.flatMap { p in p.behaviors.filter { $0.metric == metric }.map { (p.name, $0) } }
            let thresholds = behaviors.map { MetricChart.Threshold(behavior: "\($0.0)/\($0.1.name)", value: $0.1.threshold, condition: $0.1.alertCondition) }
            let mine = events.filter { $0["behavior"]?["metric"]?.stringValue == metric }.compactMap { e -> MetricChart.Event? in
                guard let time = e["violationEventTime"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
                return MetricChart.Event(time: time, type: e["violationEventType"]?.stringValue ?? "",
                                         behavior: "\(e["securityProfileName"]?.stringValue ?? "")/\(e["behavior"]?["name"]?.stringValue ?? "")",
                                         value: e["metricValue"]?["count"]?.doubleValue)
            }
            let chart = MetricChart(metric: metric, from: from, to: to, points: points, thresholds: thresholds, behaviors: behaviors.map(\.1), events: mine)
            out.append("""
                <section class="panel metric"><h2>\(metric)</h2><p class="muted">\(points.count) datapoint(s), one per 5 minutes evaluated; \
                \(thresholds.isEmpty ? "no behavior on this metric" : thresholds.map { "\($0.behavior): alert when \($0.condition)" }.joined(separator: "; "))</p>
                \(chart.svg())</section>
                """)
        }
        let rows = events.reversed().map { e -> HTML in
            let t = e["violationEventType"]?.stringValue ?? ""
            return "<tr class=\"\(t)\"><td>\(ConsoleFormat.time(e["violationEventTime"]?.stringValue))</td><td>\(t)</td>"
                + "<td><a href=\"\(ConsoleFormat.path("profiles", e["securityProfileName"]?.stringValue ?? ""))\">\(e["securityProfileName"]?.stringValue ?? "")</a></td>"
                + "<td>\(e["behavior"]?["name"]?.stringValue ?? "")</td><td>\(ConsoleFormat.value(e["metricValue"]?["count"]))</td>"
                + "<td>\(e["verificationState"]?.stringValue ?? "")</td></tr>"
        }
        out.append(rows.isEmpty ? "<section class=\"panel\"><h2>Violation history</h2><p class=\"muted\">No violation event in the range.</p></section>" : """
            <section class="panel"><h2>Violation history</h2><table id="violation-history"><thead><tr><th>Time</th><th>Event</th><th>Profile</th>\
            <th>Behavior</th><th>Value</th><th>Verification</th></tr></thead><tbody>\(rows)</tbody></table></section>
            """)
        return HTML.join(out)
    }
}
