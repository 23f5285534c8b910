// Text goes into SQLite and comes back byte for byte: U+0000 inside a value is part of it
// (a NUL-terminated bind or read would cut the value there), and an unopenable database
// file is reported with its path and the reason.
import FleetSQLite
import Foundation
import Testing

/// A text argument, named with its escapes (a raw NUL would garble the test log).
struct Text: CustomTestStringConvertible, Sendable {
    let value: String
    init(_ value: String) { self.value = value }
    var testDescription: String { value.debugDescription }
}

@Suite struct TextBytesTests {
    static let texts: [Text] = ["nul\u{0}A", "nul\u{0}B", "\u{0}", "x\u{0}y\u{0}", "", "héllo\u{0}wörld", "\u{0}\u{0}\u{0}", "emoji 👩‍💻\u{0}end"].map(Text.init)

    @Test(arguments: texts)
    func textRoundTripsWithItsBytes(_ t: Text) throws {
        let s = t.value
        let db = try Connection(path: ":memory:")
        #expect(try db.scalar("SELECT ?", [s]) == .text(s))
        #expect(try db.scalar("SELECT length(CAST(? AS BLOB))", [s])?.int == Int64(s.utf8.count))
        try db.execute(script: "CREATE TABLE t(v TEXT NOT NULL) STRICT")
        try db.execute("INSERT INTO t VALUES (?)", [s])
        #expect(try db.query("SELECT v FROM t", [], { $0.text(0) }) == [s])
        #expect(try db.query("SELECT v FROM t", [], { $0.value(0) }) == [.text(s)])
        #expect(try db.scalar("SELECT count(*) FROM t WHERE v = ?", [s])?.int == 1)
    }

    @Test func valuesThatDifferAfterANulStayApart() throws {
        let db = try Connection(path: ":memory:")
        try db.execute(script: "CREATE TABLE client(id TEXT PRIMARY KEY) STRICT")
        for id in ["nul\u{0}A", "nul\u{0}B", "nul"] { try db.execute("INSERT INTO client VALUES (?)", [id]) }
        #expect(try db.scalar("SELECT count(*) FROM client")?.int == 3)
        #expect(try db.scalar("SELECT count(*) FROM client WHERE id = ?", ["nul"])?.int == 1)
    }

    static let unopenable: [(String, String)] = [
        ("missing/sub/fleet.sqlite", "the directory <dir>/missing/sub does not exist"),
        ("file/fleet.sqlite", "<dir>/file is not a directory"),
        ("dir", "it is a directory"),
    ]

    @Test(arguments: unopenable)
    func anUnopenableDatabaseNamesThePathAndTheCause(_ relative: String, _ cause: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-sqlite-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/dir", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/file", contents: Data("x".utf8))
        let path = dir + "/" + relative
        let e = try #require(throws: SQLiteError.self) { try Connection(path: path) }
        #expect(e.code == 14)
        #expect(e.message == "cannot open database \(path): " + cause.replacingOccurrences(of: "<dir>", with: dir))
    }

    @Test func aPathWithANulIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fleetdex-sqlite-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect { try Connection(path: dir + "/a\u{0}b.sqlite") } throws: { ($0 as? SQLiteError)?.message.contains("NUL byte") == true }
        #expect(!FileManager.default.fileExists(atPath: dir + "/a"))
    }
}

/// A value's description is an SQL literal of the same value (`--explain` prints parameters so).
@Suite struct LiteralTests {
    static let values: [SQLiteValue] = [.null, .integer(-42), .real(2.5), .text(""), .text("it's"), .text("nul\u{0}A"),
                                        .text("a\nb\tc\u{1b}[0m"), .text("\u{0}"), .blob([0, 1, 15, 16, 255]), .blob([])]

    @Test(arguments: values)
    func descriptionIsALiteralOfTheValue(_ v: SQLiteValue) throws {
        let db = try Connection(path: ":memory:")
        #expect(try db.scalar("SELECT " + v.description) == v)
        #expect(!v.description.contains("\n") && !v.description.unicodeScalars.contains("\u{0}"))
    }
}
