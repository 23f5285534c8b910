// FleetServer console: where alerts go: SNS topics and their subscriptions, SQS queues with
// their message counts (GetQueueAttributes at the server's clock) and a peek at each
// queue's newest messages (Notifications.peekMessages: read as they are, so viewing the page
// counts no receive, hides nothing and moves nothing to a dead-letter queue).
import FleetIndex

/// The alerts page.
enum AlertsPage {
    static let peekLimit = 5
    /// Characters of a message body shown (the rest elided).
    static let bodyLimit = 2000

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
        let peeks = try urls.map { url -> HTML in
            let name = url.split(separator: "/").last.map(String.init) ?? url
            let messages = try n.peekMessages(url: url, limit: Self.peekLimit)["Messages"]?.arrayValue ?? []
            let rows = messages.map { m -> HTML in
                let body = m["Body"]?.stringValue ?? ""
                let shown = body.count > Self.bodyLimit ? String(body.prefix(Self.bodyLimit)) + "…" : body
                let sent = Int64(m["SentTimestamp"]?.stringValue ?? "").map(ConsoleFormat.time) ?? ""
                return "<tr class=\"message\"><td>\(sent)</td><td>\(m["MessageId"]?.stringValue ?? "")</td><td>\(m["ApproximateReceiveCount"]?.stringValue ?? "")</td><td><pre class=\"body\">\(shown)</pre></td></tr>"
            }
            return "<h3>\(name)</h3>" + table("peek-\(name)", ["Sent", "Message id", "Receives", "Body"], rows, empty: "No message.")
        }
        func table(_ id: String, _ head: [String], _ rows: [HTML], empty: String) -> HTML {
            rows.isEmpty ? "<p class=\"muted\">\(empty)</p>"
                : "<table id=\"\(id)\"><thead><tr>\(head.map { "<th>\($0)</th>" as HTML })</tr></thead><tbody>\(rows)</tbody></table>"
        }
        let body: HTML = """
            <h1>Alerts</h1>
            <section class="panel"><h2>SNS topics</h2>\(table("topics", ["Topic", "Subscriptions", "Profiles alerting here"], topicRows, empty: "No topic."))</section>
            <section class="panel"><h2>Subscriptions</h2>\(table("subscriptions", ["Topic", "Protocol", "Endpoint"], subRows, empty: "No subscription."))</section>
            <section class="panel"><h2>SQS queues</h2>\(table("queues", ["Queue", "Messages visible", "In flight", "Redrive policy"], queueRows, empty: "No queue."))</section>
            <section class="panel"><h2>Newest messages</h2><p class="muted">The newest \(Self.peekLimit) of each queue, in flight or not, \
            read as they are: looking counts no receive and hides nothing.</p>\(HTML.join(peeks))</section>
            """
        return ConsoleLayout.page("Alerts", section: "alerts", body: body, session: c.session, refresh: 15)
    }
}
