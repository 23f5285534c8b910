// fleetdex: the options every command takes: the database, the output format, the time,
// the saved-query directory.
import ArgumentParser
import FleetIndex
import Foundation

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case json, table, text, csv, names, chart
}

struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The database file (else $FLEETDEX_DB, else ./fleetdex.sqlite).")
    var db: String?

    @Option(name: .long, help: "json (the AWS CLI v2 shape), table or text; some commands add csv, names or chart.")
    var output: OutputFormat?

    @Option(name: .long, help: ArgumentHelp("The time the command runs at: \(timeFormats). Default: the system clock.", valueName: "time"),
            transform: checkedTime)
    var at: String?

    @Option(name: .long, help: "The saved-query directory (else $FLEETDEX_QUERIES, else ./Queries).")
    var queries: String?

    var databasePath: String {
        db ?? ProcessInfo.processInfo.environment["FLEETDEX_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "fleetdex.sqlite"
    }

    var queriesDirectory: String {
        queries ?? ProcessInfo.processInfo.environment["FLEETDEX_QUERIES"].flatMap { $0.isEmpty ? nil : $0 } ?? "Queries"
    }

    func open() throws -> FleetDatabase {
        let env = ProcessInfo.processInfo.environment
        return try FleetDatabase(path: databasePath, region: env["FLEETDEX_REGION"], account: env["FLEETDEX_ACCOUNT"])
    }

    /// `--at`, or the system clock. A `--at` before the last evaluated tick is warned about.
    func now() throws -> Int64 {
        guard let at else { return Int64(Date().timeIntervalSince1970 * 1000) }
        let ms = try time(at, "--at")
        warnIfBeforeLastTick(ms)
        return ms
    }

    func savedQueries() -> SavedQueries { SavedQueries(directory: queriesDirectory) }

    func format(default d: OutputFormat = .json, allowed: [OutputFormat] = [.json, .table, .text]) throws -> OutputFormat {
        let f = output ?? d
        guard allowed.contains(f) else {
            throw ValidationError("--output \(f.rawValue) is not available here (use \(allowed.map(\.rawValue).joined(separator: ", ")))")
        }
        return f
    }
}

/// Parses a time flag (see `timeFormats`).
func time(_ s: String, _ flag: String) throws -> Int64 {
    do { return try Timestamp.read(s) } catch { throw ValidationError("The value '\(s)' is invalid for '\(flag)': not a time: \(error.reason)") }
}

/// A structured flag: JSON text, or `file://PATH` holding it (as the AWS CLI takes them).
func structured(_ text: String, _ flag: String) throws -> JSONValue {
    var body = text
    if text.hasPrefix("file://") {
        let path = String(text.dropFirst("file://".count))
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FleetError(.invalidRequest, "\(flag): cannot read \(path)")
        }
        body = String(decoding: data, as: UTF8.self)
    }
    do { return try JSONValue.parse(body) } catch { throw FleetError.badJSON(flag, error) }
}
