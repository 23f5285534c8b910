// FleetServer console: security profiles: each one's behaviors in AWS form and as alert
// conditions in words, its targets, its active violations (linked to their things) and
// "Mark as true/false positive" (PutVerificationStateOnViolation).
import FleetIndex

/// The security profile pages.
enum ProfilesPage {
    static let pageSize = 100

    static func list(_ c: ConsoleContext) throws -> WireResponse {
        let defender = Defender(c.db)
        var names: [String] = []
        var token: String?
        repeat {
            let page = try defender.listSecurityProfiles(maxResults: 250, nextToken: token)
            names += (page["securityProfileIdentifiers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            token = page["nextToken"]?.stringValue
        } while token != nil
        let rows = try names.map { n -> HTML in
            let d = try defender.describeSecurityProfile(name: n)
            let conditions = Behavior.parseList(d["behaviors"] ?? .array([])).behaviors.map { "\($0.name): \($0.alertCondition)" }
            let targets = (try defender.listTargetsForSecurityProfile(name: n)["securityProfileTargets"]?.arrayValue ?? []).count
            return "<tr><td><a class=\"profile-link\" href=\"\(ConsoleFormat.path("profiles", n))\">\(n)</a></td><td>\(conditions.joined(separator: "; "))</td><td>\(targets)</td></tr>"
        }
        let body: HTML = rows.isEmpty ? "<h1>Security profiles</h1><section class=\"panel\"><p class=\"muted\">No security profile.</p></section>" : """
            <h1>Security profiles</h1><section class="panel"><table id="profiles"><thead><tr><th>Profile</th><th>Alert when</th><th>Targets</th></tr></thead>
            <tbody>\(rows)</tbody></table></section>
            """
        return ConsoleLayout.page("Security profiles", section: "profiles", body: body, session: c.session)
    }

    /// Criteria in words: what raises the alarm and what clears it.
    static func words(_ b: Behavior) -> String {
        var s = "alert when \(b.alertCondition)"
        s += b.consecutiveDatapointsToAlarm == 1 ? " at one datapoint" : " for \(b.consecutiveDatapointsToAlarm) consecutive datapoints"
        s += b.consecutiveDatapointsToClear == 1 ? ", clear after one datapoint within the criteria" : ", clear after \(b.consecutiveDatapointsToClear) datapoints within the criteria"
        if b.suppressAlerts { s += " (alerts suppressed)" }
        return s
    }

    static func render(_ c: ConsoleContext, profile name: String) throws -> WireResponse {
        let defender = Defender(c.db)
        let d = try defender.describeSecurityProfile(name: name)
        let behaviorsJSON = d["behaviors"] ?? .array([])
        let behaviors = Behavior.parseList(behaviorsJSON).behaviors
        var body: HTML = "<h1>\(name)</h1>"
        if let desc = d["securityProfileDescription"]?.stringValue { body += "<p>\(desc)</p>" }
        if let v = c.request.param("marked") { body += "<p class=\"notice\" id=\"marked-notice\">Marked \(v).</p>" }
        let conditions = behaviors.map { "<li><b>\($0.name)</b>: \(words($0)) <span class=\"muted\">(\($0.metric) \($0.comparisonOperator) \(HTML.number($0.threshold)))</span></li>" as HTML }
        body += """
            <section class="panel"><h2>Behaviors</h2><ul id="conditions">\(conditions)</ul>
            <details><summary>AWS form</summary><pre id="behaviors-json">\(behaviorsJSON.pretty)</pre></details>
            """
        if let targets = d["alertTargets"], !targets.isNull { body += "<h3>Alert targets</h3><pre>\(targets.pretty)</pre>" }
        if let extra = d["additionalMetricsToRetainV2"], !extra.isNull { body += "<h3>Metrics retained</h3><pre>\(extra.pretty)</pre>" }
        let targets = (try defender.listTargetsForSecurityProfile(name: name)["securityProfileTargets"]?.arrayValue ?? []).compactMap { $0["arn"]?.stringValue }
        body += "<h3>Targets</h3>" + (targets.isEmpty ? "<p class=\"muted\">Not attached: nothing is monitored.</p>" as HTML
            : "<ul id=\"targets\">\(targets.map { "<li>\($0)</li>" as HTML })</ul>") + "</section>"
        let next = c.request.param("next")
        let page = try defender.listActiveViolations(thingName: nil, profile: name, criteriaType: nil, verificationState: nil, maxResults: pageSize, nextToken: next)
        let violations = page["activeViolations"]?.arrayValue ?? []
        let back = ConsoleFormat.url(ConsoleFormat.path("profiles", name), [("next", next)])
        let rows = violations.map { v -> HTML in
            let id = v["violationId"]?.stringValue ?? ""
            let thing = v["thingName"]?.stringValue ?? ""
            let action = ConsoleFormat.path("violations", id, "verification")
            func button(_ state: String, _ label: String) -> HTML {
                "<form class=\"inline\" method=\"post\" action=\"\(action)\">\(c.csrfField)<input type=\"hidden\" name=\"back\" value=\"\(back)\">"
                    + "<input type=\"hidden\" name=\"state\" value=\"\(state)\"><button class=\"secondary\" type=\"submit\">\(label)</button></form>"
            }
            return "<tr data-violation=\"\(id)\"><td><a class=\"thing-link\" href=\"\(ConsoleFormat.path("things", thing))\">\(thing)</a></td>"
                + "<td>\(v["behavior"]?["name"]?.stringValue ?? "")</td><td>\(ConsoleFormat.value(v["lastViolationValue"]?["count"]))</td>"
                + "<td>\(ConsoleFormat.time(v["violationStartTime"]?.stringValue))</td>"
                + "<td class=\"verification\">\(v["verificationState"]?.stringValue ?? "UNKNOWN")</td>"
                + "<td>\(button("TRUE_POSITIVE", "Mark as true positive")) \(button("FALSE_POSITIVE", "Mark as false positive"))</td></tr>"
        }
        body += "<section class=\"panel\"><h2>Active violations</h2>"
        body += rows.isEmpty ? "<p class=\"muted\" id=\"no-violations\">No active violation.</p>" : """
            <table id="violations"><thead><tr><th>Thing</th><th>Behavior</th><th>Last value</th><th>Since</th><th>Verification</th><th></th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
        if let token = page["nextToken"]?.stringValue {
            body += "<nav class=\"pages\"><a id=\"next-page\" href=\"\(ConsoleFormat.url(ConsoleFormat.path("profiles", name), [("next", token)]))\">Next page</a></nav>"
        }
        body += "</section>"
        return ConsoleLayout.page(name, section: "profiles", body: body, session: c.session, refresh: 30)
    }

    /// POST /console/violations/ID/verification (state, back).
    static func verify(_ c: ConsoleContext, violationId: String) throws -> WireResponse {
        let state = c.request.form["state"] ?? ""
        _ = try Defender(c.db).putVerificationState(violationId: violationId, state: state, description: "marked in the console")
        let back = Console.safeNext(c.request.form["back"])
        return ConsoleLayout.redirect(back + (back.contains("?") ? "&" : "?") + "marked=" + ConsoleFormat.percentEncode(state))
    }
}
