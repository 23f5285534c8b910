// fleetdex: the fleet index: search-index and its short form `search`, saved queries and
// the indexing configuration.
import ArgumentParser
import FleetIndex
import Foundation

struct SearchIndex: ParsableCommand {
    static let configuration = CommandConfiguration(command: "search-index", abstract: "Search the fleet index (AWS_Things).",
        discussion: example("fleetdex search-index --index-name AWS_Things --query-string 'deviceDefender.Disconnect_duration_5m.*.inViolation:true'"))
    @OptionGroup var g: GlobalOptions
    @Option var indexName: String?
    @Option(parsing: .unconditional, help: "The query, or @NAME for a saved query.") var queryString: String
    @Option var maxResults: Int?
    @Option var nextToken: String?
    @Option var queryVersion: String?
    @Flag(help: "Enforce AWS's query limits (12 terms, no leading wildcard).") var awsLimits = false
    func run() throws {
        let db = try g.open()
        let q = try g.savedQueries().resolve(queryString)
        Output.emit(try FleetIndex.Search(db).searchIndex(indexName: indexName, query: q, maxResults: maxResults, nextToken: nextToken,
                                                          at: try g.now(), awsLimits: awsLimits), try g.format())
    }
}

struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(command: "search", abstract: "Search the fleet (the short form of search-index).",
        discussion: example("fleetdex search 'thingTypeName:Pump AND shadow.reported.temp>70' --output table",
                            "fleetdex search --saved disconnected-5m --output names",
                            "fleetdex search 'attributes.site:denver*' --explain",
                            "fleetdex search --query-string '-thingName:pump-17'",
                            "fleetdex search -- '-thingName:pump-17'"))
    @OptionGroup var g: Options<SearchFormats>
    @Argument(help: "The query (or @NAME); one that starts with '-' goes after '--' or in --query-string.") var query: String?
    @Option(parsing: .unconditional, help: "The query, as the argument; it may start with '-'.") var queryString: String?
    @Option(help: "Run the saved query NAME.") var saved: String?
    @Option var maxResults: Int?
    @Option var nextToken: String?
    @Flag(help: "Print the tokens, the bound query, the SQL with its parameters and SQLite's query plan.") var explain = false
    @Flag(help: "Enforce AWS's query limits.") var awsLimits = false
    func run() throws {
        let db = try g.open()
        let saved = g.savedQueries()
        let text: String
        if [self.saved, query, queryString].compactMap({ $0 }).count > 1 {
            throw ValidationError("give one query: the argument, --query-string or --saved NAME")
        }
        if let name = self.saved { text = try saved.get(name).query } else if let q = query ?? queryString { text = try saved.resolve(q) } else {
            throw ValidationError("give a query or --saved NAME")
        }
        let search = FleetIndex.Search(db)
        if explain {
            Output.write(try search.explain(text, at: try g.now(), awsLimits: awsLimits))
            return
        }
        let format = try g.format(allowed: [.json, .table, .text, .names, .csv])
        let r = try search.searchIndex(indexName: nil, query: text, maxResults: maxResults, nextToken: nextToken, at: try g.now(), awsLimits: awsLimits)
        let things = r["things"]?.arrayValue ?? []
        if let token = r["nextToken"]?.stringValue, format != .json {
            FileHandle.standardError.write(Data("fleetdex: more results: --next-token \(token)\n".utf8))
        }
        switch format {
        case .names:
            Output.write(things.compactMap { $0["thingName"]?.stringValue }.map { $0 + "\n" }.joined())
        case .csv, .table:
            let rows: [[String]] = things.map { t in
                let c = t["connectivity"]
                return [t["thingName"]?.stringValue ?? "", t["thingTypeName"]?.stringValue ?? "",
                        (t["thingGroupNames"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " "),
                        c?["connected"]?.boolValue.map { $0 ? "true" : "false" } ?? "",
                        c?["timestamp"]?.int64Value.map { Timestamp.iso($0) } ?? "",
                        c?["disconnectReason"]?.stringValue ?? "",
                        (t["attributes"]?.objectValue ?? []).map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: " ")]
            }
            let header = ["thingName", "thingTypeName", "thingGroupNames", "connected", "since", "disconnectReason", "attributes"]
            if format == .csv {
                func cell(_ s: String) -> String { s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
                Output.write(([header] + rows).map { $0.map(cell).joined(separator: ",") }.joined(separator: "\n") + "\n")
            } else {
                Output.write(Output.table(.array(rows.map { r in .object(zip(header, r).map { JSONMember($0.0, .string($0.1)) }) })))
                FileHandle.standardError.write(Data("\(things.count) thing(s)\n".utf8))
            }
        default:
            Output.emit(r, format)
        }
    }
}

struct Queries: ParsableCommand {
    static let configuration = CommandConfiguration(command: "queries", abstract: "Saved queries: NAME.fq files in --queries DIR, else $FLEETDEX_QUERIES, else DB.queries beside the database.",
        subcommands: [List.self, Show.self, Save.self, Delete.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(command: "list", abstract: "List saved queries.", discussion: example("fleetdex queries list"))
        @OptionGroup var g: Options<ListingFormats>
        func run() throws {
            let all = g.savedQueries().list()
            let format = try g.format(default: .table)
            if format == .table {
                Output.write(Output.table(.array(all.map { jsonObject([("name", .string($0.name)), ("description", .string($0.description ?? "")),
                                                                       ("query", .string($0.query))]) })))
            } else {
                Output.emit(jsonObject([("queries", .array(all.map { jsonObject([("name", .string($0.name)), ("description", $0.description.map(JSONValue.string)),
                                                                                 ("query", .string($0.query)), ("shipped", .bool($0.shipped))]) }))]), format)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(command: "show", abstract: "Show one saved query.", discussion: example("fleetdex queries show lost-30d"))
        @OptionGroup var g: GlobalOptions
        @Argument var name: String
        func run() throws {
            let e = try g.savedQueries().get(name)
            Output.emit(jsonObject([("name", .string(e.name)), ("description", e.description.map(JSONValue.string)), ("query", .string(e.query))]), try g.format())
        }
    }

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(command: "save", abstract: "Save a query under a name (checked first).",
            discussion: example("fleetdex queries save lost-30d 'connectivity.connected:false AND connectivity.timestamp<now-30d' --description 'Lost devices'"))
        @OptionGroup var g: GlobalOptions
        @Argument var name: String
        @Argument var query: String
        @Option var description: String?
        func run() throws {
            let db = try g.open()
            _ = try FleetIndex.Search(db).compile(query, at: try g.now())
            try g.savedQueries().save(name, query: query, description: description)
            Output.emit(jsonObject([("name", .string(name)), ("path", .string(g.queriesDirectory + "/" + name + ".fq"))]), try g.format())
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(command: "delete", abstract: "Delete a saved query file.", discussion: example("fleetdex queries delete lost-30d"))
        @OptionGroup var g: GlobalOptions
        @Argument var name: String
        func run() throws { try g.savedQueries().delete(name) }
    }
}

struct UpdateIndexingConfiguration: ParsableCommand {
    static let configuration = CommandConfiguration(command: "update-indexing-configuration", abstract: "Choose what the fleet index holds.",
        discussion: "A mode left out is OFF, as in AWS.\n\n" + example(#"fleetdex update-indexing-configuration --thing-indexing-configuration '{"thingIndexingMode":"REGISTRY_AND_SHADOW","thingConnectivityIndexingMode":"STATUS","deviceDefenderIndexingMode":"VIOLATIONS","namedShadowIndexingMode":"ON"}'"#))
    @OptionGroup var g: GlobalOptions
    @Option var thingIndexingConfiguration: String?
    @Option var thingGroupIndexingConfiguration: String?
    func run() throws {
        let db = try g.open()
        if let c = thingIndexingConfiguration {
            Output.emit(try IndexConfiguration(db).update(try structured(c, "--thing-indexing-configuration")), try g.format())
        }
    }
}

struct GetIndexingConfiguration: ParsableCommand {
    static let configuration = CommandConfiguration(command: "get-indexing-configuration", abstract: "Show the indexing configuration.",
        discussion: example("fleetdex get-indexing-configuration"))
    @OptionGroup var g: GlobalOptions
    func run() throws { Output.emit(try IndexConfiguration(try g.open()).get(), try g.format()) }
}

struct DescribeIndex: ParsableCommand {
    static let configuration = CommandConfiguration(command: "describe-index", abstract: "Describe the AWS_Things index.",
        discussion: example("fleetdex describe-index --index-name AWS_Things"))
    @OptionGroup var g: GlobalOptions
    @Option var indexName: String = "AWS_Things"
    func run() throws { Output.emit(try IndexConfiguration(try g.open()).describeIndex(name: indexName), try g.format()) }
}

struct ListIndices: ParsableCommand {
    static let configuration = CommandConfiguration(command: "list-indices", abstract: "List the indexes.", discussion: example("fleetdex list-indices"))
    @OptionGroup var g: GlobalOptions
    func run() throws { Output.emit(IndexConfiguration(try g.open()).listIndices(), try g.format()) }
}
