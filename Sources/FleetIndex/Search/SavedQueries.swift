// FleetIndex: saved queries, one file each: `<directory>/<name>.fq`, optional leading `#`
// comment lines (the first is the description), then the query text. The front end picks
// the directory (the CLI: --queries, $FLEETDEX_QUERIES, else `<database>.queries`). The
// queries shipped in the repository's Queries/ are embedded and used when the directory
// lacks them.
import Foundation

/// Saved-query files.
public struct SavedQueries {
    public let directory: String
    public init(directory: String) { self.directory = directory }

    public struct Entry: Equatable {
        public var name: String
        public var description: String?
        public var query: String
        public var shipped: Bool
    }

    static func checkName(_ name: String) throws(FleetError) {
        guard !name.isEmpty, name.utf8.count <= 128,
              name.utf8.allSatisfy({ Validation.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else {
            throw .invalid("saved query name '\(name)' must be 1 to 128 characters of [a-zA-Z0-9_-]")
        }
    }

    /// Parses a `.fq` file's text.
    public static func parse(name: String, text: String, shipped: Bool) -> Entry {
        var description: String? = nil
        var query: [String] = []
        var header = true
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let l = String(line)
            if header && l.hasPrefix("#") {
                if description == nil { description = String(l.dropFirst()).trimmingSpaces }
                continue
            }
            header = false
            query.append(l)
        }
        return Entry(name: name, description: description, query: query.joined(separator: "\n").trimmingSpaces, shipped: shipped)
    }

    func path(_ name: String) -> String { directory + "/" + name + ".fq" }

    public func list() -> [Entry] {
        var out: [String: Entry] = [:]
        for (file, text) in FleetDatabase.shippedQueries {
            let name = String(file.dropLast(3))
            out[name] = Self.parse(name: name, text: text, shipped: true)
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for f in files where f.hasSuffix(".fq") {
            let name = String(f.dropLast(3))
            if let text = try? String(contentsOfFile: directory + "/" + f, encoding: .utf8) {
                out[name] = Self.parse(name: name, text: text, shipped: false)
            }
        }
        return out.values.sorted { $0.name < $1.name }
    }

    /// The text of a saved-query file, nil when there is none; a file that cannot be read or
    /// is not UTF-8 is an error naming it.
    func read(_ file: String) throws -> String? {
        guard let data = FileManager.default.contents(atPath: file) else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else { return nil }
            throw FleetError.invalid("saved query file \(file) cannot be read" + (isDirectory.boolValue ? " (it is a directory)" : ""))
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw FleetError.invalid("saved query file \(file) is not UTF-8 text")
        }
        return text
    }

    public func get(_ name: String) throws -> Entry {
        try Self.checkName(name)
        if let text = try read(path(name)) {
            return Self.parse(name: name, text: text, shipped: false)
        }
        if let (_, text) = FleetDatabase.shippedQueries.first(where: { $0.0 == name + ".fq" }) {
            return Self.parse(name: name, text: text, shipped: true)
        }
        let names = list().map(\.name)
        throw FleetError.notFound("no saved query '\(name)' in \(directory)" + (names.isEmpty ? "" : " (saved: \(names.joined(separator: ", ")))"))
    }

    public func save(_ name: String, query: String, description: String?) throws {
        try Self.checkName(name)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var text = ""
        if let description { text += "# " + description.replacingOccurrences(of: "\n", with: " ") + "\n" }
        text += query + "\n"
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
    }

    public func delete(_ name: String) throws {
        try Self.checkName(name)
        guard FileManager.default.fileExists(atPath: path(name)) else { throw FleetError.notFound("no saved query '\(name)' in \(directory)") }
        try FileManager.default.removeItem(atPath: path(name))
    }

    /// A query argument: `@name` names a saved query, anything else is the query itself.
    public func resolve(_ text: String) throws -> String {
        if text.hasPrefix("@") { return try get(String(text.dropFirst())).query }
        return text
    }
}
