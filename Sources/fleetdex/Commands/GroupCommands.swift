// fleetdex: dynamic thing groups and the group report.
import ArgumentParser
import FleetIndex
import Foundation

struct CreateDynamicThingGroup: ParsableCommand {
    static let configuration = CommandConfiguration(command: "create-dynamic-thing-group", abstract: "Create a group whose members are the things matching a query.",
        discussion: example("fleetdex create-dynamic-thing-group --thing-group-name Disconnected_things --query-string 'deviceDefender.Disconnect_duration_5m.*.inViolation:true'",
                            "fleetdex create-dynamic-thing-group --thing-group-name Lost --query-string @lost-30d"))
    @OptionGroup var g: GlobalOptions
    @Option var thingGroupName: String
    @Option(parsing: .unconditional, help: "The query, or @NAME for a saved query.") var queryString: String
    @Option var indexName: String?
    @Option var queryVersion: String?
    @Option var thingGroupProperties: String?
    func run() throws {
        let db = try g.open()
        let q = try g.savedQueries().resolve(queryString)
        let p = try thingGroupProperties.map { try structured($0, "--thing-group-properties") }
        Output.emit(try DynamicGroups(db).createDynamicThingGroup(name: thingGroupName, query: q, indexName: indexName, queryVersion: queryVersion,
                                                                  properties: p, at: try g.now()), try g.format())
    }
}

struct UpdateDynamicThingGroup: ParsableCommand {
    static let configuration = CommandConfiguration(command: "update-dynamic-thing-group", abstract: "Change a dynamic group's query (it is rebuilt).",
        discussion: example("fleetdex update-dynamic-thing-group --thing-group-name Lost --query-string 'connectivity.timestamp<now-7d'"))
    @OptionGroup var g: GlobalOptions
    @Option var thingGroupName: String
    @Option(parsing: .unconditional) var queryString: String?
    @Option var expectedVersion: Int64?
    @Option var thingGroupProperties: String?
    func run() throws {
        let db = try g.open()
        let q = try queryString.map { try g.savedQueries().resolve($0) }
        Output.emit(try DynamicGroups(db).updateDynamicThingGroup(name: thingGroupName, query: q, expectedVersion: expectedVersion, at: try g.now()), try g.format())
    }
}

struct DeleteDynamicThingGroup: ParsableCommand {
    static let configuration = CommandConfiguration(command: "delete-dynamic-thing-group", abstract: "Delete a dynamic group.",
        discussion: example("fleetdex delete-dynamic-thing-group --thing-group-name Lost"))
    @OptionGroup var g: GlobalOptions
    @Option var thingGroupName: String
    @Option var expectedVersion: Int64?
    func run() throws { Output.emit(try DynamicGroups(try g.open()).deleteDynamicThingGroup(name: thingGroupName, expectedVersion: expectedVersion), try g.format()) }
}

struct GroupReport: ParsableCommand {
    static let configuration = CommandConfiguration(command: "group-report", abstract: "For each dynamic group: query, status, members, and who joined and left since a time.",
        discussion: example("fleetdex group-report --since 2026-11-28T00:00:00Z --output table", "fleetdex group-report --thing-group-name Lost --output csv > lost.csv"))
    @OptionGroup var g: Options<ReportFormats>
    @Option var thingGroupName: String?
    @Option(help: ArgumentHelp("Joins and leaves from this time on (default: 24 hours before --at): \(timeFormats).", valueName: "time"), transform: checkedTime) var since: String?
    func run() throws {
        let db = try g.open()
        let now = try g.now()
        let from = try since.map { try time($0, "--since") } ?? now - 86_400_000
        let r = try DynamicGroups(db).report(group: thingGroupName, since: from)
        let format = try g.format(default: .table, allowed: [.json, .table, .csv, .text])
        let groups = r["groups"]?.arrayValue ?? []
        switch format {
        case .csv:
            var out = "thingGroupName,change,thingName,time,reason\n"
            for gr in groups {
                let name = gr["thingGroupName"]?.stringValue ?? ""
                for change in ["joined", "left"] {
                    for e in gr[change]?.arrayValue ?? [] {
                        let reason = (e["reason"]?.stringValue ?? "").replacingOccurrences(of: "\"", with: "\"\"")
                        out += "\(name),\(change),\(e["thingName"]?.stringValue ?? ""),\(e["time"]?.stringValue ?? ""),\"\(reason)\"\n"
                    }
                }
            }
            Output.write(out)
        case .table:
            var out = ""
            for gr in groups {
                out += "\(gr["thingGroupName"]?.stringValue ?? "")  [\(gr["status"]?.stringValue ?? "")]  \(gr["memberCount"]?.compact ?? "0") member(s)\n"
                out += "  query: \(gr["queryString"]?.stringValue ?? "")\n"
                let events = ["joined", "left"].flatMap { c in (gr[c]?.arrayValue ?? []).map { (c, $0) } }
                    .sorted { ($0.1["time"]?.stringValue ?? "") < ($1.1["time"]?.stringValue ?? "") }
                if events.isEmpty { out += "  no joins or leaves since \(Timestamp.iso(from))\n" }
                for (c, e) in events {
                    let sign = c == "joined" ? "+ joined" : "- left  "
                    out += "  \(sign)  \(e["time"]?.stringValue ?? "")  \(e["thingName"]?.stringValue ?? "")  (\(e["reason"]?.stringValue ?? ""))\n"
                }
                out += "\n"
            }
            Output.write(out.isEmpty ? "no dynamic thing groups\n" : out)
        default:
            Output.emit(r, format)
        }
    }
}
