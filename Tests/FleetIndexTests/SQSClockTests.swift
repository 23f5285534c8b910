// SQS on mixed clocks: a message nobody received is visible to a receive on any clock; a
// receive hides what it returns only from receives whose clock lies within its visibility
// window; one receive returns a message once; any handle the queue issued deletes.
import FleetIndex
import Foundation
import Testing

@Suite struct SQSClockTests {
    func queue(backend: Backend = .sqlite) throws -> (Notifications, String) {
        let n = Notifications(try Fixtures.database(backend))
        let url = try n.createQueue(name: "Q", attributes: [:], at: 0)["QueueUrl"]!.stringValue!
        return (n, url)
    }

    func receive(_ n: Notifications, _ url: String, at: Int64, visibility: Int64? = nil, max: Int = 10) throws -> [JSONValue] {
        try n.receiveMessage(url: url, max: max, visibilityTimeout: visibility, wait: 0, at: at)["Messages"]?.arrayValue ?? []
    }

    func counts(_ n: Notifications, _ url: String, at: Int64) throws -> [String] {
        let a = try n.getQueueAttributes(url: url, names: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"], at: at)["Attributes"]
        return [a?["ApproximateNumberOfMessages"]?.stringValue ?? "?", a?["ApproximateNumberOfMessagesNotVisible"]?.stringValue ?? "?"]
    }

    static let sent: Int64 = 4_000_000_000_000   // 2096, ahead of any system clock running these tests

    /// Receives at clocks before, at and after the send time all see a message never received.
    @Test(arguments: [Int64(0), 1_795_860_000_000, sent - 1, sent, sent + 86_400_000])
    func unreceivedMessageIsVisibleOnEveryClock(_ clock: Int64) throws {
        let (n, url) = try queue()
        _ = try n.sendMessage(url: url, body: "b", at: Self.sent)
        #expect(try counts(n, url, at: clock) == ["1", "0"])
        #expect(try receive(n, url, at: clock).map { $0["Body"]?.stringValue } == ["b"])
    }

    /// Received at R with a 30 s timeout: hidden from clocks in [R, R + 30 s) only.
    @Test(arguments: [
        (Int64(-3_600_000), true), (-1, true), (0, false), (29_999, false), (30_000, true), (86_400_000, true),
    ])
    func inFlightIsHiddenOnlyWithinItsWindow(_ offset: Int64, _ visible: Bool) throws {
        let (n, url) = try queue()
        let r: Int64 = 1_795_860_000_000
        _ = try n.sendMessage(url: url, body: "b", at: r - 60_000)
        #expect(try receive(n, url, at: r).count == 1)
        #expect(try counts(n, url, at: r + offset) == (visible ? ["1", "0"] : ["0", "1"]))
        #expect(try receive(n, url, at: r + offset).count == (visible ? 1 : 0))
    }

    @Test(arguments: Backend.allCases) func changeMessageVisibilityOpensItsOwnWindow(_ backend: Backend) throws {
        let (n, url) = try queue(backend: backend)
        _ = try n.sendMessage(url: url, body: "b", at: 0)
        let h = try receive(n, url, at: 1_000_000)[0]["ReceiptHandle"]!.stringValue!
        _ = try n.changeMessageVisibility(url: url, receiptHandle: h, timeout: 600, at: 2_000_000)
        #expect(try receive(n, url, at: 2_000_000 + 599_999).isEmpty)
        #expect(try receive(n, url, at: 1_500_000).count == 1)        // a clock behind the change: visible
        #expect(throws: FleetError.self) { try n.changeMessageVisibility(url: url, receiptHandle: h, timeout: Int64.max, at: 0) }
        #expect(throws: FleetError.self) { try n.changeMessageVisibility(url: url, receiptHandle: h, timeout: 43_201, at: 0) }
    }

    @Test(arguments: Backend.allCases) func visibilityZeroReturnsEachMessageOnceAndItsHandleDeletes(_ backend: Backend) throws {
        let (n, url) = try queue(backend: backend)
        _ = try n.sendMessage(url: url, body: "one", at: 0)
        _ = try n.sendMessage(url: url, body: "two", at: 0)
        let got = try receive(n, url, at: 1000, visibility: 0)
        #expect(got.compactMap { $0["Body"]?.stringValue }.sorted() == ["one", "two"])
        for m in got { _ = try n.deleteMessage(url: url, receiptHandle: m["ReceiptHandle"]!.stringValue!) }
        #expect(try receive(n, url, at: 2000).isEmpty)
    }

    @Test(arguments: Backend.allCases) func anIssuedHandleDeletesAfterTheMessageIsReceivedAgain(_ backend: Backend) throws {
        let (n, url) = try queue(backend: backend)
        _ = try n.sendMessage(url: url, body: "b", at: 0)
        let first = try receive(n, url, at: 1000, visibility: 0)[0]
        let second = try receive(n, url, at: 1000, visibility: 0)[0]
        #expect(first["MessageId"] == second["MessageId"] && first["ReceiptHandle"] != second["ReceiptHandle"])
        _ = try n.deleteMessage(url: url, receiptHandle: first["ReceiptHandle"]!.stringValue!)
        #expect(try receive(n, url, at: 5000).isEmpty)
        #expect(throws: FleetError.self) { try n.deleteMessage(url: url, receiptHandle: second["ReceiptHandle"]!.stringValue!) }
    }

    @Test(arguments: ["", "x", "not a handle", String(repeating: "A", count: 5000)])
    func strangeHandlesAreInvalid(_ handle: String) throws {
        let (n, url) = try queue()
        _ = try n.sendMessage(url: url, body: "b", at: 0)
        _ = try receive(n, url, at: 0)
        do {
            _ = try n.deleteMessage(url: url, receiptHandle: handle)
            Issue.record("deleted with \(handle)")
        } catch let e as FleetError {
            #expect(e.code == .receiptHandleIsInvalid)
        }
        #expect(try counts(n, url, at: 0) == ["0", "1"])
    }

    /// A handle naming a receive that has not happened yet deletes nothing.
    @Test(arguments: Backend.allCases) func aHandleForALaterReceiveIsInvalid(_ backend: Backend) throws {
        let (n, url) = try queue(backend: backend)
        _ = try n.sendMessage(url: url, body: "b", at: 0)
        let m = try receive(n, url, at: 0)[0]
        let id = m["MessageId"]!.stringValue!
        let forged = Data((id + "#2#" + String(repeating: "0", count: 32)).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(throws: FleetError.self) { try n.deleteMessage(url: url, receiptHandle: forged) }
        #expect(try counts(n, url, at: 0) == ["0", "1"])
    }

    @Test(arguments: [Int64(-1), 43_201, Int64.max])
    func visibilityTimeoutOutOfRangeIsRejected(_ v: Int64) throws {
        let (n, url) = try queue()
        _ = try n.sendMessage(url: url, body: "b", at: 0)
        #expect(throws: FleetError.self) { try receive(n, url, at: 0, visibility: v) }
        #expect(try receive(n, url, at: 0).count == 1)
    }
}
