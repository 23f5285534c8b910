// fleetdex: printing responses (AWS CLI v2 JSON, tables, text) and errors.
import FleetIndex
import Foundation

enum Output {
    static func write(_ s: String) {
        FileHandle.standardOutput.write(Data(s.utf8))
    }

    static func fail(_ e: FleetError) -> Never {
        var text = "fleetdex: \(e.exception): \(escaped(message(e)))\n"
        if let d = e.detail { text += detailLines(d, message: e.message).joined(separator: "\n") + "\n" }
        FileHandle.standardError.write(Data(text.utf8))
        exit(exitCode(e.code))
    }

    /// Writes `fleetdex: <exception>: <message>` to stderr, the message on one line.
    static func error(_ exception: String, _ message: String, hint: String? = nil) {
        var text = "fleetdex: \(exception): \(escaped(message))\n"
        if let hint { text += hint + "\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// The lines under an error's message (the query with a caret), each escaped, the caret
    /// kept under the same characters. A first line that only repeats the message
    /// (`error[parse]: <message>`, as the query compiler renders it) is left out: the
    /// message is already on the line above.
    static func detailLines(_ detail: String, message: String) -> [String] {
        var lines = detail.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if let first = lines.first, first.hasPrefix("error["), first.hasSuffix("]: " + message) { lines.removeFirst() }
        var out: [String] = []
        var i = 0
        while i < lines.count {
            let line = lines[i]
            let next = i + 1 < lines.count ? lines[i + 1] : nil
            // "  | <query>" over "  |   ^^^": widen the caret line where an escape widens the query.
            if line.hasPrefix("  | "), let caret = next, caret.hasPrefix("  | "),
               caret.dropFirst(4).allSatisfy({ $0 == " " || $0 == "^" }) {
                var shown = "  | ", under = "  | "
                var marks = caret.dropFirst(4).makeIterator()
                for ch in line.dropFirst(4) {
                    let e = escaped(String(ch))
                    let mark = marks.next() ?? " "
                    shown += e
                    under += String(repeating: mark, count: e.count)
                }
                while let mark = marks.next() { under.append(mark) }
                while under.hasSuffix(" ") && under.count > 4 { under.removeLast() }
                out += [shown, under]
                i += 2
            } else {
                out.append(escaped(line))
                i += 1
            }
        }
        return out
    }

    /// `s` with what a terminal would act on written out: a newline as `\n`, a tab as `\t`,
    /// a carriage return as `\r`, other C0 controls, DEL and C1 controls as `\u{XX}`, and
    /// the line and paragraph separators as `\u{2028}` and `\u{2029}`. An error stays one line.
    static func escaped(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: needsEscape) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            guard needsEscape(u) else { out.unicodeScalars.append(u); continue }
            switch u {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let hex = String(u.value, radix: 16)
                out += "\\u{" + (hex.count < 2 ? "0" + hex : hex) + "}"
            }
        }
        return out
    }

    static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || (0x7f...0x9f).contains(u.value) || u.value == 0x2028 || u.value == 0x2029
    }

    /// 65 when the request itself was bad (a malformed value, JSON, query or event line),
    /// 1 when the operation failed (not found, conflict, ...).
    static func exitCode(_ code: FleetError.Code) -> Int32 { code.isBadInput ? 65 : 1 }

    /// The engine's message with the request member it names written as this command's flag
    /// (`maxResults must be …` becomes `--max-results must be …`).
    static func message(_ e: FleetError) -> String {
        guard let member = e.member, e.message.hasPrefix(member) else { return e.message }
        return flag(member) + e.message.dropFirst(member.count)
    }

    /// `maxResults` → `--max-results`, `startTime` → `--start-time`.
    static func flag(_ member: String) -> String {
        var out = "--"
        for ch in member {
            if ch.isUppercase { out += "-" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }

    /// Prints an operation's response in the chosen format. An empty response prints
    /// nothing, as the AWS CLI does.
    static func emit(_ v: JSONValue, _ format: OutputFormat) {
        if case .object(let ms) = v, ms.isEmpty { return }
        switch format {
        case .table: write(table(v))
        case .text: write(text(v))
        default:
            var text = JSONBytes.encode(v, indent: 4, reservingCapacity: 4096)
            text.append(0x0A)
            FileHandle.standardOutput.write(Data(text))
        }
    }

    static func scalar(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "True" : "False"
        case .null: return "None"
        default: return v.compact
        }
    }

    /// AWS-CLI-like text: one line per object of a list (values tab-separated), `KEY\tvalue` for scalars.
    static func text(_ v: JSONValue) -> String {
        var lines: [String] = []
        func walk(_ v: JSONValue, _ key: String) {
            switch v {
            case .object(let ms):
                let scalars = ms.filter { if case .object = $0.value { return false }; if case .array = $0.value { return false }; return true }
                if !scalars.isEmpty { lines.append(([key.uppercased()].filter { !$0.isEmpty } + scalars.map { scalar($0.value) }).joined(separator: "\t")) }
                for m in ms {
                    switch m.value {
                    case .object, .array: walk(m.value, m.key)
                    default: break
                    }
                }
            case .array(let xs):
                if xs.allSatisfy({ if case .object = $0 { return false }; if case .array = $0 { return false }; return true }) {
                    lines.append(([key.uppercased()] + xs.map(scalar)).joined(separator: "\t"))
                } else {
                    for x in xs { walk(x, key) }
                }
            default:
                lines.append("\(key.uppercased())\t\(scalar(v))")
            }
        }
        walk(v, "")
        return lines.map { $0.hasPrefix("\t") ? String($0.dropFirst()) : $0 }.joined(separator: "\n") + "\n"
    }

    /// A readable table: each list of objects becomes a table with a column per key.
    static func table(_ v: JSONValue) -> String {
        var out = ""
        func render(_ rows: [[String: String]], _ columns: [String], title: String) {
            guard !columns.isEmpty else { return }
            var width = columns.map { $0.count }
            for r in rows { for (i, c) in columns.enumerated() { width[i] = max(width[i], min(60, r[c]?.count ?? 0)) } }
            func line(_ cells: [String]) -> String {
                "| " + zip(cells, width).map { cell, w in
                    let s = cell.count > w ? String(cell.prefix(w - 1)) + "…" : cell
                    return s + String(repeating: " ", count: w - s.count)
                }.joined(separator: " | ") + " |\n"
            }
            let rule = "+" + width.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "+") + "+\n"
            if !title.isEmpty { out += title + "\n" }
            out += rule + line(columns) + rule
            for r in rows { out += line(columns.map { r[$0] ?? "" }) }
            out += rule
        }
        func walk(_ v: JSONValue, _ title: String) {
            switch v {
            case .array(let xs):
                var columns: [String] = []
                var rows: [[String: String]] = []
                for x in xs {
                    var row: [String: String] = [:]
                    if case .object(let ms) = x {
                        for m in ms {
                            if !columns.contains(m.key) { columns.append(m.key) }
                            row[m.key] = scalar(m.value)
                        }
                    } else {
                        if columns.isEmpty { columns = [title.isEmpty ? "value" : title] }
                        row[columns[0]] = scalar(x)
                    }
                    rows.append(row)
                }
                if xs.isEmpty { out += (title.isEmpty ? "" : title + ": ") + "(none)\n" } else { render(rows, columns, title: title) }
            case .object(let ms):
                let scalars = ms.filter { if case .array = $0.value { return false }; return true }
                if !scalars.isEmpty {
                    render(scalars.map { ["key": $0.key, "value": scalar($0.value)] }, ["key", "value"], title: title)
                }
                for m in ms { if case .array = m.value { walk(m.value, m.key) } }
            default:
                out += scalar(v) + "\n"
            }
        }
        walk(v, "")
        return out
    }
}
