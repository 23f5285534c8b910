// What the tests share: recorded snapshots (the SQLite and PostgreSQL schemas). With
// RECORD_SNAPSHOTS set in the environment the text is written as the new snapshot instead.
import Foundation

public enum Snapshot {
    /// The snapshot recorded at `path`, to compare `text` with; nil when RECORD_SNAPSHOTS is
    /// set, after `text` has been written there (the caller fails the test, so a recording is
    /// never mistaken for a pass).
    public static func recorded(_ text: String, at path: String) throws -> String? {
        if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return nil
        }
        return try String(contentsOfFile: path, encoding: .utf8)
    }
}
