// FleetMQTT: a device shadow request topic: `$aws/things/<thing>/shadow/<op>` (the classic
// shadow) or `$aws/things/<thing>/shadow/name/<shadow>/<op>`, with op update, get or delete.
// The response topics (…/accepted, …/rejected, …/delta, …/documents) are not requests.

struct ShadowOperation: Equatable, Sendable {
    enum Kind: String, Sendable { case update, get, delete }
    let thing: String
    let shadow: String?
    let kind: Kind

    init?(topic: String) {
        guard topic.hasPrefix("$aws/things/") else { return nil }
        let parts = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // $aws things <thing> shadow <op>  |  $aws things <thing> shadow name <shadow> <op>
        if parts.count == 5, parts[3] == "shadow", !parts[2].isEmpty, let k = Kind(rawValue: parts[4]) {
            thing = parts[2]; shadow = nil; kind = k
        } else if parts.count == 7, parts[3] == "shadow", parts[4] == "name", !parts[2].isEmpty, !parts[5].isEmpty,
                  let k = Kind(rawValue: parts[6]) {
            thing = parts[2]; shadow = parts[5]; kind = k
        } else {
            return nil
        }
    }

    /// The request topic; responses go to `<base>/accepted`, `<base>/rejected`, and for
    /// update also `<base>/delta` and `<base>/documents`.
    var base: String {
        "$aws/things/\(thing)/shadow/" + (shadow.map { "name/\($0)/" } ?? "") + kind.rawValue
    }
}
