// SQS from the command line on mixed clocks: an alert raised on a virtual clock ahead of the
// system clock is received without --at; a --visibility-timeout 0 receipt handle deletes.
import FleetIndex
import Foundation
import Testing

@Suite struct SQSClockCLITests {
    /// An alert raised by `evaluate --at` ahead of the system clock is received without --at.
    @Test func virtualFutureAlertIsReceivedOnTheSystemClock() throws {
        let cli = try CLI()
        try cli.run("sns", "create-topic", "--name", "T")
        try cli.run("sqs", "create-queue", "--queue-name", "Q")
        try cli.run("sns", "subscribe", "--topic-arn", "arn:aws:sns:us-east-1:123456789012:T", "--protocol", "sqs",
                    "--notification-endpoint", "arn:aws:sqs:us-east-1:123456789012:Q")
        try cli.run("create-security-profile", "--security-profile-name", "P", "--alert-when", "B: aws:disconnect-duration >= 5",
                    "--alert-targets", #"{"SNS":{"alertTargetArn":"arn:aws:sns:us-east-1:123456789012:T","roleArn":"arn:aws:iam::123456789012:role/r"}}"#)
        try cli.run("attach-security-profile", "--security-profile-name", "P", "--security-profile-target-arn", "arn:aws:iot:us-east-1:123456789012:all/things")
        try cli.run("create-thing", "--thing-name", "d")
        try cli.run("connect", "--thing-name", "d", "--at", "2099-11-28T10:00:20Z")
        try cli.run("disconnect", "--thing-name", "d", "--at", "2099-11-28T10:01:20Z")
        try cli.run("evaluate", "--at", "2099-11-28T10:05:00Z")
        #expect(try cli.run("evaluate", "--at", "2099-11-28T10:10:00Z").out.contains(#""violationsRaised": 1"#))
        #expect(try cli.run("sqs", "get-queue-attributes", "--queue-url", "Q", "--attribute-names", "ApproximateNumberOfMessages")
            .out.contains(#""ApproximateNumberOfMessages": "1""#))
        let m = try cli.run("sqs", "receive-message", "--queue-url", "Q", "--wait-time-seconds", "1")
        #expect(m.code == 0 && m.out.contains("in-alarm"), "\(m.out)\(m.err)")
        let handle = try JSONValue.parse(m.out)["Messages"]?.arrayValue?.first?["ReceiptHandle"]?.stringValue ?? ""
        #expect(try cli.run("sqs", "get-queue-attributes", "--queue-url", "Q").out.contains(#""ApproximateNumberOfMessagesNotVisible": "1""#))
        #expect(try cli.run("sqs", "delete-message", "--queue-url", "Q", "--receipt-handle", handle).code == 0)
    }

    /// `--visibility-timeout 0`: the message comes once per receive, and its handle deletes it.
    @Test func visibilityZeroHandleDeletes() throws {
        let cli = try CLI()
        try cli.run("sqs", "create-queue", "--queue-name", "Q")
        try cli.run("sqs", "send-message", "--queue-url", "Q", "--message-body", "hello", "--at", "2026-11-28T10:00:00Z")
        let r = try cli.run("sqs", "receive-message", "--queue-url", "Q", "--visibility-timeout", "0", "--max-number-of-messages", "10",
                            "--at", "2026-11-28T10:00:01Z")
        let msgs = try JSONValue.parse(r.out)["Messages"]?.arrayValue ?? []
        #expect(msgs.count == 1)
        let again = try cli.run("sqs", "receive-message", "--queue-url", "Q", "--visibility-timeout", "0", "--at", "2026-11-28T10:00:02Z")
        #expect(again.out.contains("hello"))
        let first = msgs.first?["ReceiptHandle"]?.stringValue ?? ""
        let d = try cli.run("sqs", "delete-message", "--queue-url", "Q", "--receipt-handle", first)
        #expect(d.code == 0 && d.err.isEmpty, "\(d.err)")
        #expect(try cli.run("sqs", "receive-message", "--queue-url", "Q", "--at", "2026-11-28T10:00:03Z").out.isEmpty)
        let twice = try cli.run("sqs", "delete-message", "--queue-url", "Q", "--receipt-handle", first)
        #expect(twice.code == 1 && twice.err.hasPrefix("fleetdex: ReceiptHandleIsInvalid: "))
    }
}
