// The storage seam: SQL text, and calls that run it on a Connection, live only in the
// storage layer (Sources/FleetIndex/Storage, Sources/FleetDevices/Storage, FleetStorage,
// FleetSQLite). Operations, the CLI and the server call stores. The sources are found from
// this file's path, so the test reads the checkout it was built from.
import Foundation
import Testing

@Suite struct StorageSeamTests {
    /// The package's root: Tests/FleetIndexTests/<this file> is two folders below it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Folders whose Swift files must hold no SQL, and the storage folders inside them.
    static let scanned = ["Sources/FleetIndex", "Sources/FleetDevices", "Sources/fleetdex", "Sources/FleetServer"]
    static let storage = ["Sources/FleetIndex/Storage/", "Sources/FleetDevices/Storage/"]

    /// Files whose SQL has not moved into a store yet: the seam's remaining work. A file
    /// leaves this list when its last statement moves (the test fails if a listed file is clean).
    static let pending: Set<String> = [
    ]

    /// SQL keywords as they start a statement inside a string literal, and the calls that run
    /// statements on a Connection.
    static let patterns: [(String, NSRegularExpression)] = [
        ("SQL text", try! NSRegularExpression(pattern: #"\b(SELECT\s+\S|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|PRAGMA\s+\w|CREATE\s+(TABLE|INDEX)\b|DROP\s+(TABLE|INDEX)\b|json_each\(|last_insert_rowid)"#)),
        ("a statement run on a Connection", try! NSRegularExpression(pattern: #"\b(c|conn|connection)\s*\.\s*(query|execute|scalar|prepare|prepareUncached|forEach|queryPlan)\s*\("#)),
        ("lastInsertRowID", try! NSRegularExpression(pattern: #"\blastInsertRowID\b"#)),
    ]

    /// Every offending line outside the storage layer, as "path:line: what: text".
    static func findings() throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        let fm = FileManager.default
        for folder in scanned {
            let base = root.appendingPathComponent(folder)
            guard let walk = fm.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walk where url.pathExtension == "swift" {
                let path = String(url.path.dropFirst(root.path.count + 1))
                if storage.contains(where: { path.hasPrefix($0) }) { continue }
                let text = try String(contentsOf: url, encoding: .utf8)
                for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    var line = String(raw)
                    let trimmed = line.drop { $0 == " " }
                    if trimmed.hasPrefix("//") { continue }  // comments may name SQL
                    if let comment = line.range(of: " // ") { line = String(line[..<comment.lowerBound]) }
                    let range = NSRange(line.startIndex..., in: line)
                    for (what, regex) in patterns where regex.firstMatch(in: line, range: range) != nil {
                        out[path, default: []].append("\(path):\(n + 1): \(what): \(trimmed.prefix(120))")
                    }
                }
            }
        }
        return out
    }

    @Test func sourcesAreFound() {
        #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("Sources/FleetIndex/Registry/Registry.swift").path))
    }

    @Test func noSQLOutsideTheStorageLayer() throws {
        let found = try Self.findings()
        let offending = found.filter { !Self.pending.contains($0.key) }.sorted { $0.key < $1.key }.flatMap(\.value)
        #expect(offending.isEmpty, "SQL outside the storage layer (move it into a store):\n\(offending.joined(separator: "\n"))")
        let done = Self.pending.subtracting(found.keys).sorted()
        #expect(done.isEmpty, "no SQL left in these files: take them off StorageSeamTests.pending:\n\(done.joined(separator: "\n"))")
    }
}
