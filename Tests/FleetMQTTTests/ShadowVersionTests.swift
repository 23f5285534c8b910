// A shadow update that names the version it expects is checked in the update's own
// transaction: of several updates expecting the same version, exactly one is accepted (the
// others get 409), whether they come over MQTT at the same time or one after another.
import FleetIndex
@testable import FleetMQTT
import Foundation
import Testing

/// The first topic of each answer, from the writer threads.
private final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var topics: [String] = []
    func append(_ t: String) { lock.lock(); topics.append(t); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return topics }
}

@Suite(.serialized) struct ShadowVersionTests {
    static let t0 = Timestamp.parse("2026-11-28T10:00:00Z")!

    /// A fresh database with the thing `lamp`, under the suite's folder (removed at exit).
    func database() throws -> String {
        let dir = mqttTestRoot.appendingPathComponent("shadow-version-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("fleet.sqlite").path
        let db = try FleetDatabase(path: path, region: "us-east-1", account: "123456789012")
        _ = try Registry(db).createThing(name: "lamp", typeName: nil, attributes: nil, at: Self.t0)
        return path
    }

    func update(_ version: Int64?, _ n: Int) -> [UInt8] {
        Array(#"{"state":{"reported":{"n":\#(n)}}\#(version.map { #","version":\#($0)"# } ?? "")}"#.utf8)
    }

    @Test(arguments: [
        // (version of the shadow before, version asked, accepted)
        (Int64(0), Int64?.none, true), (0, 0, true), (0, 1, false),
        (1, nil, true), (1, 1, true), (1, 0, false), (1, 2, false), (3, 3, true), (3, 4, false),
    ])
    func theRegistryChecksTheExpectedVersion(_ before: Int64, _ asked: Int64?, _ accepted: Bool) throws {
        let db = try FleetDatabase(path: try database())
        let registry = Registry(db)
        for i in 0..<before {
            _ = try registry.updateThingShadow(thingName: "lamp", shadowName: nil, payload: try JSONValue.parse(#"{"state":{"reported":{"n":\#(i)}}}"#), at: Self.t0)
        }
        let payload = try JSONValue.parse(#"{"state":{"reported":{"n":99}}}"#)
        if accepted {
            let r = try registry.updateThingShadow(thingName: "lamp", shadowName: nil, payload: payload, at: Self.t0, expectedVersion: asked)
            #expect(r["version"]?.int64Value == before + 1)
        } else {
            #expect(throws: FleetError.versionConflict("Version conflict")) {
                try registry.updateThingShadow(thingName: "lamp", shadowName: nil, payload: payload, at: Self.t0, expectedVersion: asked)
            }
            let stored = try? registry.getThingShadow(thingName: "lamp", shadowName: nil)
            #expect((stored?["version"]?.int64Value ?? 0) == before)
        }
    }

    /// The document's own `version` is checked as AWS checks it, for every caller (the CLI's
    /// and HTTP's UpdateThingShadow, iot-data Publish to …/shadow/update): (version in the
    /// document, accepted) against a shadow at version 2.
    @Test(arguments: [("2", true), ("1", false), ("3", false), ("\"2\"", false), ("2.5", false)])
    func theDocumentsVersionIsChecked(_ version: String, _ accepted: Bool) throws {
        let db = try FleetDatabase(path: try database())
        let registry = Registry(db)
        for i in 0..<2 {
            _ = try registry.updateThingShadow(thingName: "lamp", shadowName: nil, payload: try JSONValue.parse(#"{"state":{"reported":{"n":\#(i)}}}"#), at: Self.t0)
        }
        let payload = try JSONValue.parse(#"{"state":{"reported":{"n":9}},"version":\#(version)}"#)
        if accepted {
            #expect(try registry.updateThingShadow(thingName: "lamp", shadowName: nil, payload: payload, at: Self.t0)["version"]?.int64Value == 3)
        } else {
            #expect(throws: FleetError.versionConflict("Version conflict")) {
                try registry.updateThingShadow(thingName: "lamp", shadowName: nil, payload: payload, at: Self.t0)
            }
        }
    }

    @Test func concurrentUpdatesExpectingTheSameVersionAcceptOne() throws {
        let path = try database()
        let service = ShadowService(database: Opener(path: path), clock: ManualClock(Self.t0))
        let op = try #require(ShadowOperation(topic: "$aws/things/lamp/shadow/update"))
        _ = service.perform(op, payload: update(nil, 0))
        let writers = 6
        for round in Int64(1)...8 {
            // Each round: `writers` threads released together, every one expecting version `round`.
            let answers = Answers(), start = DispatchSemaphore(value: 0), done = DispatchGroup()
            for i in 0..<writers {
                done.enter()
                let payload = update(round, i)
                Thread.detachNewThread {
                    start.wait()
                    answers.append(service.perform(op, payload: payload).first?.topic ?? "-")
                    done.leave()
                }
            }
            for _ in 0..<writers { start.signal() }
            done.wait()
            let topics = answers.all
            #expect(topics.filter { $0.hasSuffix("/update/accepted") }.count == 1, "round \(round): \(topics)")
            #expect(topics.filter { $0.hasSuffix("/update/rejected") }.count == writers - 1, "round \(round): \(topics)")
        }
        let stored = try Registry(try FleetDatabase(path: path)).getThingShadow(thingName: "lamp", shadowName: nil)
        #expect(stored["version"]?.int64Value == 9)
    }
}
