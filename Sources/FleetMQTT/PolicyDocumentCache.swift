// FleetMQTT: the parsed policy documents of admitted connections, by their text. Connections
// whose certificates carry the same policy versions share one parsed copy (its arrays are
// shared storage) instead of each holding its own; a document's new default version is new
// text and parsed anew. Bounded: emptied when it holds `limit` texts.
import FleetDevices
import NIOConcurrencyHelpers

final class PolicyDocumentCache: Sendable {
    private let documents = NIOLockedValueBox<[String: PolicyDocument]>([:])
    let limit: Int

    init(limit: Int = 1024) { self.limit = limit }

    /// The parsed document of `text`; nil when it does not parse.
    func document(_ text: String) -> PolicyDocument? {
        if let known = documents.withLockedValue({ $0[text] }) { return known }
        guard let parsed = try? PolicyDocument.parse(text) else { return nil }
        documents.withLockedValue { d in
            if d.count >= limit { d.removeAll() }
            d[text] = parsed
        }
        return parsed
    }

    var count: Int { documents.withLockedValue { $0.count } }
}
