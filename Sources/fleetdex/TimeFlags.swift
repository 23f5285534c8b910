// fleetdex: the flags that take a time or a duration, checked when the command line is parsed
// (a bad value is a usage error naming the flag and the value, exit 64), and the warning
// for a time before the last evaluated tick.
import ArgumentParser
import FleetIndex
import Foundation

/// What every time flag's help says about its value.
let timeFormats = "ISO 8601 (2026-11-28T10:05:00Z, 2026-11-28T12:05:00.250+02:00, 2026-11-28 for midnight UTC) or epoch seconds "
    + "(1796112600, fractions allowed; a number of 13 or more digits is epoch milliseconds); years 1970 to 9999"

/// A time flag's transform: the text, unchanged, once it reads as a time.
func checkedTime(_ text: String) throws -> String {
    do { _ = try Timestamp.read(text) } catch { throw ValidationError("not a time: \(error.reason)") }
    return text
}

/// A duration flag's transform: whole seconds within `range`.
func seconds(_ range: ClosedRange<Int64>) -> @Sendable (String) throws -> Int64 {
    { text in
        guard let v = Int64(text.trimmingCharacters(in: .whitespaces)), range.contains(v) else {
            throw ValidationError("must be a whole number of seconds from \(range.lowerBound) to \(range.upperBound)")
        }
        return v
    }
}

/// The same for an `Int` flag.
func seconds(_ range: ClosedRange<Int>) -> @Sendable (String) throws -> Int {
    { text in Int(try seconds(Int64(range.lowerBound)...Int64(range.upperBound))(text)) }
}

nonisolated(unsafe) private var warnedBeforeLastTick = false

extension Options {
    /// One line on stderr when `--at` lies before the last evaluated tick of an existing
    /// database: the command still runs, but evaluation will not revisit those ticks.
    func warnIfBeforeLastTick(_ at: Int64) {
        guard !warnedBeforeLastTick, FileManager.default.fileExists(atPath: databasePath),
              let db = try? open(), let tick = try? EvaluationCycle(db).lastEvaluatedTick(), at < tick else { return }
        warnedBeforeLastTick = true
        FileHandle.standardError.write(Data(("fleetdex: warning: --at \(Timestamp.iso(at)) is before the last evaluated tick (\(Timestamp.iso(tick))): "
            + "the ticks up to \(Timestamp.iso(tick)) are not evaluated again\n").utf8))
    }
}
