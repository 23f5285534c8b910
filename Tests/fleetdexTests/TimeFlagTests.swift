// The time and duration flags as a user types them: what is accepted and printed back, what
// is a usage error naming the flag and the value (and changes nothing), and the warning for a
// --at before the last evaluated tick.
import FleetIndex
import Foundation
import Testing

@Suite struct TimeFlagTests {
    /// Accepted `--at` values and the creationDate a thing type created at them shows.
    static let accepted: [(String, String)] = [
        ("2026-11-28T10:05:00Z", "2026-11-28T10:05:00+00:00"),              // what the conformance scripts send
        ("2026-11-28T10:00:00.123456Z", "2026-11-28T10:00:00.123000+00:00"), // 6 digits, as fleetdex prints them
        ("2026-11-28T10:00:00.123000+00:00", "2026-11-28T10:00:00.123000+00:00"),
        ("2026-11-28T12:00:00+02:00", "2026-11-28T10:00:00+00:00"),
        ("2026-11-28t10:05:00z", "2026-11-28T10:05:00+00:00"),
        ("2026-11-28", "2026-11-28T00:00:00+00:00"),
        ("1796112600", "2026-12-01T08:10:00+00:00"),                        // epoch seconds, as the AWS CLI reads a number
        ("1796112600.5", "2026-12-01T08:10:00.500000+00:00"),
        ("1796112600000", "2026-12-01T08:10:00+00:00"),                     // 13 digits: milliseconds
    ]

    @Test(arguments: accepted)
    func acceptedTimes(_ at: String, _ printed: String) throws {
        let cli = try CLI()
        let c = try cli.run("create-thing-type", "--thing-type-name", "T", "--at", at)
        #expect(c.code == 0 && c.err.isEmpty, "\(c.err)")
        let d = try cli.run("describe-thing-type", "--thing-type-name", "T")
        #expect(d.out.contains(#""creationDate": "\#(printed)""#), "\(d.out)")
    }

    /// Bad values: exit 64, one line naming the flag and the value, and the reason.
    static let rejected: [([String], String, String, String)] = [
        (["create-thing", "--thing-name", "a"], "--at", "2026-02-31T10:00:00Z", "2026-02 has 28 days"),
        (["create-thing", "--thing-name", "a"], "--at", "2026-02-29", "2026-02 has 28 days"),
        (["create-thing", "--thing-name", "a"], "--at", "2026-11-28T23:59:60Z", "second 60 does not exist"),
        (["create-thing", "--thing-name", "a"], "--at", "2026-11-28T24:00:00Z", "hour 24 does not exist"),
        (["create-thing", "--thing-name", "a"], "--at", "2026-13-01", "month 13 does not exist"),
        (["create-thing", "--thing-name", "a"], "--at", "2026-11-28T10:00:00+99:99", "offset minutes 99"),
        (["create-thing", "--thing-name", "a"], "--at", "2026-11-28T10:00:00+24:00", "offsets run from -18:00 to +18:00"),
        (["create-thing", "--thing-name", "a"], "--at", "9223372036854775807", "outside 1970-01-01"),
        (["create-thing", "--thing-name", "a"], "--at", "1796000000000000", "outside 1970-01-01"),
        (["create-thing", "--thing-name", "a"], "--at", "yesterday", "expected ISO 8601"),
        (["describe-thing", "--thing-name", "a"], "--at", "2026-02-31", "2026-02 has 28 days"),
        (["evaluate"], "--at", "9223372036854775807", "outside 1970-01-01"),
        (["evaluate"], "--since", "9223372036854700000", "outside 1970-01-01"),
        (["group-report"], "--since", "9223372036854700000", "outside 1970-01-01"),
        (["list-violation-events", "--end-time", "2026-11-29"], "--start-time", "2026-02-29", "2026-02 has 28 days"),
        (["list-metric-values", "--thing-name", "t", "--metric-name", "aws:disconnect-duration", "--start-time", "2026-11-28"],
         "--end-time", "2026-11-28T24:00:00Z", "hour 24 does not exist"),
        (["list-detect-mitigation-actions-executions"], "--start-time", "1796000000000000", "outside 1970-01-01"),
        (["sqs", "receive-message", "--queue-url", "Q"], "--visibility-timeout", "9223372036854775807", "from 0 to 43200"),
        (["sqs", "receive-message", "--queue-url", "Q"], "--visibility-timeout", "43201", "from 0 to 43200"),
        (["sqs", "receive-message", "--queue-url", "Q"], "--wait-time-seconds", "21", "from 0 to 20"),
        (["sqs", "change-message-visibility", "--queue-url", "Q", "--receipt-handle", "h"], "--visibility-timeout", "9223372036854775807", "from 0 to 43200"),
        (["run", "--events", "/dev/null", "--exit-at-end"], "--interval", "9223372036854776", "from 1 to 86400"),
        (["run", "--events", "/dev/null", "--exit-at-end"], "--interval", "0", "from 1 to 86400"),
    ]

    @Test(arguments: rejected)
    func rejectedValues(_ command: [String], _ flag: String, _ value: String, _ reason: String) throws {
        let cli = try CLI()
        let r = try cli.run(command + [flag, value])
        #expect(r.code == 64)
        let first = r.err.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("fleetdex: UsageError: The value '\(value)' is invalid for '\(flag) "), "\(r.err)")
        #expect(first.contains(reason), "\(r.err)")
        #expect(r.out.isEmpty)
        // Nothing was done: no thing was created.
        #expect(try cli.run("describe-thing", "--thing-name", "a").code == 1)
    }

    /// `evaluate --at` far beyond every clock is refused and leaves evaluation working.
    @Test func outOfRangeEvaluationLeavesLaterOnesWorking() throws {
        let cli = try CLI()
        #expect(try cli.run("evaluate", "--at", "2026-11-28T10:00:00Z").out.contains(#""ticks": 1"#))
        #expect(try cli.run("evaluate", "--at", "9223372036854775807").code == 64)
        #expect(try cli.run("evaluate", "--at", "1796000000000000").code == 64)
        let next = try cli.run("evaluate", "--at", "2026-11-28T10:10:00Z")
        #expect(next.out.contains(#""ticks": 2"#) && next.err.isEmpty, "\(next.out)\(next.err)")
    }

    /// Every time flag's help says how a number is read.
    @Test(arguments: [
        (["create-thing", "--help"], "--at"), (["evaluate", "--help"], "--since"), (["group-report", "--help"], "--since"),
        (["list-violation-events", "--help"], "--start-time"), (["list-metric-values", "--help"], "--end-time"),
        (["list-detect-mitigation-actions-executions", "--help"], "--start-time"),
    ])
    func helpSaysHowNumbersRead(_ args: [String], _ flag: String) throws {
        let help = try CLI().run(args).out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard let range = help.range(of: "\(flag) <time> ", options: .backwards) else { Issue.record("no \(flag) in \(help)"); return }
        let text = help[range.upperBound...].prefix(300)
        #expect(text.contains("epoch seconds") && text.contains("13 or more digits is epoch milliseconds") && text.contains("years 1970 to 9999"), "\(text)")
    }

    @Test func durationsHelpGiveBounds() throws {
        let r = try CLI().run("sqs", "receive-message", "--help").out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(r.contains("0 to 43200") && r.contains("0 to 20"))
        #expect(try CLI().run("run", "--help").out.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains("1 to 86400"))
    }

    /// A --at before the last evaluated tick: one warning line on stderr, and the command runs.
    @Test func warnsBeforeTheLastEvaluatedTick() throws {
        let cli = try CLI()
        try cli.run("create-thing", "--thing-name", "d")
        #expect(try cli.run("evaluate", "--at", "2026-11-28T10:10:00Z").err.isEmpty)
        let late = try cli.run("evaluate", "--at", "2026-11-28T10:00:00Z")
        #expect(late.code == 0 && late.out.contains(#""ticks": 0"#))
        #expect(late.err == "fleetdex: warning: --at 2026-11-28T10:00:00+00:00 is before the last evaluated tick (2026-11-28T10:10:00+00:00): "
            + "the ticks up to 2026-11-28T10:10:00+00:00 are not evaluated again\n")
        let connect = try cli.run("connect", "--thing-name", "d", "--at", "2026-11-28T10:07:00Z")
        #expect(connect.code == 0 && connect.err.hasPrefix("fleetdex: warning: --at 2026-11-28T10:07:00+00:00 is before") && connect.err.split(separator: "\n").count == 1)
        #expect(try cli.run("evaluate", "--at", "2026-11-28T10:10:00Z").err.isEmpty)     // the same tick again: no warning
        #expect(try cli.run("evaluate", "--at", "2026-11-28T10:15:00Z").err.isEmpty)
        #expect(try cli.run("describe-thing", "--thing-name", "d", "--at", "2026-11-28T10:00:00Z").err.isEmpty)  // not using the time
    }
}

@Suite struct JSONTimeTests {
    /// A timestamp member of a structured flag out of range is an error, not a crash.
    @Test(arguments: ["1e300", "-5", "253402300800", "\"2026-02-31T00:00:00Z\""])
    func occurrenceRangeOutOfRange(_ start: String) throws {
        let cli = try CLI()
        try cli.run("create-mitigation-action", "--action-name", "q", "--role-arn", "arn:aws:iam::123456789012:role/r",
                    "--action-params", #"{"addThingsToThingGroupParams":{"thingGroupNames":["g"]}}"#)
        let r = try cli.run("start-detect-mitigation-actions-task", "--task-id", "t", "--target", #"{"securityProfileName":"P"}"#,
                            "--actions", "q", "--violation-event-occurrence-range", #"{"startTime":\#(start),"endTime":1796112600}"#)
        #expect(r.code == 65)
        #expect(r.err.hasPrefix("fleetdex: InvalidRequestException: --violation-event-occurrence-range needs startTime and endTime"), "\(r.err)")
    }
}
