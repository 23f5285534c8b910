// fleetdex: the options every command takes: the database, the output format, the time,
// the saved-query directory.
import ArgumentParser
import FleetIndex
import Foundation

enum OutputFormat: String, CaseIterable {
    case json, table, text, csv, names, chart

    var help: String {
        switch self {
        case .json: "json (the AWS CLI v2 shape)"
        case .text: "text (tab-separated, as the AWS CLI prints it)"
        case .names: "names (one thing name a line)"
        case .chart: "chart (the values drawn)"
        default: rawValue
        }
    }
}

/// The output formats one command prints: its `--help` lists them and `--output` takes no other.
protocol OutputFormats {
    static var formats: [OutputFormat] { get }
    static var defaultFormat: OutputFormat { get }
}

extension OutputFormats {
    static var defaultFormat: OutputFormat { .json }

    /// "json (the AWS CLI v2 shape), table or text (default: json)."
    static var help: String {
        let names = formats.map(\.help)
        return "The output format: " + names.dropLast().joined(separator: ", ") + (names.count > 1 ? " or " : "") + names.last!
            + " (default: \(defaultFormat.rawValue))."
    }

    /// "json, table or text".
    static var list: String {
        let names = formats.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + (names.count > 1 ? " or " : "") + names.last!
    }
}

/// What most commands print: the AWS JSON, a table or text.
enum StandardFormats: OutputFormats { static let formats: [OutputFormat] = [.json, .table, .text] }
/// `search`: also thing names and CSV.
enum SearchFormats: OutputFormats { static let formats: [OutputFormat] = [.json, .table, .text, .names, .csv] }
/// `list-metric-values`: also a chart.
enum ChartFormats: OutputFormats { static let formats: [OutputFormat] = [.json, .table, .text, .chart] }
/// `group-report`: a table first, also CSV.
enum ReportFormats: OutputFormats {
    static let formats: [OutputFormat] = [.table, .json, .text, .csv]
    static var defaultFormat: OutputFormat { .table }
}
/// `queries list`: a table first.
enum ListingFormats: OutputFormats {
    static let formats: [OutputFormat] = [.table, .json, .text]
    static var defaultFormat: OutputFormat { .table }
}

/// The options of a command that prints the standard formats.
typealias GlobalOptions = Options<StandardFormats>

/// The options every command takes; `Formats` are the output formats it prints.
struct Options<Formats: OutputFormats>: ParsableArguments {
    @Option(name: .long, help: "The database file (else $FLEETDEX_DB, else ./fleetdex.sqlite).")
    var db: String?

    @Option(name: .long, help: ArgumentHelp(Formats.help, valueName: "format"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("The time the command runs at: \(timeFormats). Default: the system clock.", valueName: "time"),
            transform: checkedTime)
    var at: String?

    @Option(name: .long, help: "The saved-query directory (else $FLEETDEX_QUERIES, else DB.queries beside the database file DB).")
    var queries: String?

    var databasePath: String {
        db ?? ProcessInfo.processInfo.environment["FLEETDEX_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "fleetdex.sqlite"
    }

    /// `--queries`, else `$FLEETDEX_QUERIES`, else `<database file>.queries` beside the database:
    /// the same folder from whichever directory the command runs in.
    var queriesDirectory: String {
        queries ?? ProcessInfo.processInfo.environment["FLEETDEX_QUERIES"].flatMap { $0.isEmpty ? nil : $0 } ?? databasePath + ".queries"
    }

    func validate() throws {
        if db?.isEmpty == true { throw ValidationError("--db must name a database file") }
        if queries?.isEmpty == true { throw ValidationError("--queries must name a directory") }
        if let output, !Formats.formats.contains(where: { $0.rawValue == output }) {
            throw ValidationError("--output '\(output)' is not a format of this command (use \(Formats.list))")
        }
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

    /// The chosen output format (`--output`, else the command's default).
    func format(default d: OutputFormat? = nil, allowed: [OutputFormat]? = nil) throws -> OutputFormat {
        let allowed = allowed ?? Formats.formats
        let f = output.flatMap(OutputFormat.init(rawValue:)) ?? d ?? Formats.defaultFormat
        guard allowed.contains(f) else {
            throw ValidationError("--output '\(f.rawValue)' is not a format of this command (use \(allowed.map(\.rawValue).joined(separator: ", ")))")
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
