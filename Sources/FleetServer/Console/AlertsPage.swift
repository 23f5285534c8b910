// FleetServer console: where alerts go: SNS topics and their subscriptions, SQS queues with
// their message counts (GetQueueAttributes at the server's clock). The engine has no
// read of a queue's messages that leaves them as they were (ReceiveMessage counts a
// receive and hides the message, and a redrive policy can move it), so the page shows the
// counts and no message bodies.
import FleetIndex

/// The alerts page.
enum AlertsPage {
    static func render(_ c: ConsoleContext) throws -> WireResponse {
        let n = Notifications(c.db)
        let topics = (try n.listTopics()["Topics"]?.arrayValue ?? []).compactMap { $0["TopicArn"]?.stringValue }
        let subs = try n.listSubscriptions(topicARN: nil)["Subscriptions"]?.arrayValue ?? []
        let profiles = try Defender(c.db).attachedProfiles()
        let topicRows = topics.map { arn -> HTML in
            let mine = subs.filter { $0["TopicArn"]?.stringValue == arn }
            let from = profiles.filter { $0.alertTopic == arn }.map { "<a href=\"\(ConsoleFormat.path("profiles", $0.name))\">\($0.name)</a>" as HTML }
            return "<tr><td>\(arn)</td><td>\(mine.count)</td><td>\(HTML.join(from, separator: ", "))</td></tr>"
        }
        let subRows = subs.map { s -> HTML in
            "<tr><td>\(s["TopicArn"]?.stringValue ?? "")</td><td>\(s["Protocol"]?.stringValue ?? "")</td><td>\(s["Endpoint"]?.stringValue ?? "")</td></tr>"
        }
        let urls = (try n.listQueues(prefix: nil)["QueueUrls"]?.arrayValue ?? []).compactMap(\.stringValue)
        let queueRows = try urls.map { url -> HTML in
            let a = try n.getQueueAttributes(url: url, names: ["All"], at: c.now)["Attributes"]
            let name = url.split(separator: "/").last.map(String.init) ?? url
            return "<tr data-queue=\"\(name)\"><td>\(name)</td><td class=\"visible\">\(a?["ApproximateNumberOfMessages"]?.stringValue ?? "")</td>"
                + "<td class=\"in-flight\">\(a?["ApproximateNumberOfMessagesNotVisible"]?.stringValue ?? "")</td>"
                + "<td>\(a?["RedrivePolicy"]?.stringValue ?? "")</td></tr>"
        }
        func table(_ id: String, _ head: [String], _ rows: [HTML], empty: String) -> HTML {
            rows.isEmpty ? "<p class=\"muted\">\(empty)</p>"
                : "<table id=\"\(id)\"><thead><tr>\(head.map { "<th>\($0)</th>" as HTML })</tr></thead><tbody>\(rows)</tbody></table>"
        }
        let body: HTML = """
            <h1>Alerts</h1>
            <section class="panel"><h2>SNS topics</h2>\(table("topics", ["Topic", "Subscriptions", "Profiles alerting here"], topicRows, empty: "No topic."))</section>
            <section class="panel"><h2>Subscriptions</h2>\(table("subscriptions", ["Topic", "Protocol", "Endpoint"], subRows, empty: "No subscription."))</section>
            <section class="panel"><h2>SQS queues</h2>\(table("queues", ["Queue", "Messages visible", "In flight", "Redrive policy"], queueRows, empty: "No queue."))
            <p class="muted">Counts only: fleetdex has no read of a queue that leaves its messages untouched (a receive hides a message and \
            counts toward its redrive), so the console shows no message bodies. Read them with <code>fleetdex sqs receive-message</code>.</p></section>
            """
        return ConsoleLayout.page("Alerts", section: "alerts", body: body, session: c.session, refresh: 15)
    }
}
