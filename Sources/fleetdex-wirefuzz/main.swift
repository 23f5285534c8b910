// fleetdex-wirefuzz [RUNS] [SEED]: a seeded mutational fuzzer of what fleetdex serve reads
// from the network before an operation runs: the request line's path and query, headers,
// the SigV4 Authorization header and presigned query, rest-json / JSON 1.0 / query bodies and
// presence bodies (Dispatcher.decode). Seeds are requests real clients send; each input is
// a seed with random edits (bytes flipped, inserted, removed, tokens spliced in, fields
// swapped between seeds). A crash (a trap, a bad access) saves the input to
// Fuzz/crashes/http/ before the process ends; an input slower than 1 s is a hang. Prints the
// counts and `fuzz-http: N passed, M failed`. scripts/fuzz.sh runs it as the `http` target.
import FleetIndex
import FleetServer
import FleetTestSupport
import Foundation

let args = CommandLine.arguments
let runs = args.count > 1 ? Int(args[1]) ?? 1_000_000 : 1_000_000
nonisolated(unsafe) var rng = SplitMix64(seed: args.count > 2 ? UInt64(args[2]) ?? 1 : 1)

extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}

let auth = "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261201/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
let seeds: [SignedRequest] = [
    SignedRequest(method: "POST", rawPath: "/things/pump-17", rawQuery: "",
                  headers: [("Host", "127.0.0.1:4510"), ("X-Amz-Date", "20261201T101500Z"), ("Authorization", auth), ("Content-Type", "application/json")],
                  body: Array(#"{"thingTypeName":"Pump","attributePayload":{"attributes":{"site":"denver"},"merge":true}}"#.utf8)),
    SignedRequest(method: "GET", rawPath: "/things", rawQuery: "maxResults=3&nextToken=abc%3D%3D&attributeName=site&attributeValue=denver",
                  headers: [("Host", "h"), ("X-Amz-Date", "20261201T101500Z"), ("Authorization", auth)], body: []),
    SignedRequest(method: "POST", rawPath: "/indices/search", rawQuery: "",
                  headers: [("Host", "h"), ("X-Amz-Date", "20261201T101500Z"), ("Authorization", auth)],
                  body: Array(#"{"queryString":"connectivity.connected:false AND attributes.site:site-042","maxResults":100}"#.utf8)),
    SignedRequest(method: "GET", rawPath: "/metric-values", rawQuery: "thingName=t&metricName=aws%3Adisconnect-duration&startTime=2026-11-28T10%3A00%3A00Z&endTime=2026-11-28T11%3A00%3A00Z",
                  headers: [("Host", "h"), ("X-Amz-Date", "20261201T101500Z"), ("Authorization", auth)], body: []),
    SignedRequest(method: "PUT", rawPath: "/things/test_thing/principals", rawQuery: "thingPrincipalType=EXCLUSIVE_THING",
                  headers: [("Host", "h"), ("x-amzn-principal", "arn:aws:iot:us-east-1:123456789012:cert/ab"), ("Authorization", auth), ("X-Amz-Date", "20261201T101500Z")], body: []),
    SignedRequest(method: "POST", rawPath: "/things/t/shadow", rawQuery: "name=config",
                  headers: [("Host", "h"), ("Authorization", auth.replacingOccurrences(of: "/iot/", with: "/iotdata/")), ("X-Amz-Date", "20261201T101500Z")],
                  body: Array(#"{"state":{"reported":{"temp":71.5}}}"#.utf8)),
    SignedRequest(method: "POST", rawPath: "/", rawQuery: "",
                  headers: [("Host", "h"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("X-Amz-Date", "20261201T101500Z"),
                            ("Authorization", auth.replacingOccurrences(of: "/iot/", with: "/sns/"))],
                  body: Array("Action=Subscribe&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3AT&Protocol=sqs&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A123456789012%3AQ&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true".utf8)),
    SignedRequest(method: "POST", rawPath: "/", rawQuery: "",
                  headers: [("Host", "h"), ("X-Amz-Target", "AmazonSQS.ReceiveMessage"), ("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Date", "20261201T101500Z"),
                            ("Authorization", auth.replacingOccurrences(of: "/iot/", with: "/sqs/"))],
                  body: Array(#"{"QueueUrl":"http://h/123456789012/q","MaxNumberOfMessages":10,"WaitTimeSeconds":0,"AttributeNames":["All"]}"#.utf8)),
    SignedRequest(method: "POST", rawPath: "/", rawQuery: "",
                  headers: [("Host", "h"), ("Content-Type", "application/x-www-form-urlencoded"), ("X-Amz-Date", "20261201T101500Z")],
                  body: Array("Action=CreateQueue&QueueName=q&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30&Version=2012-11-05".utf8)),
    SignedRequest(method: "GET", rawPath: "/things/pump-17", rawQuery: "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDLOCAL%2F20261201%2Fus-east-1%2Fiot%2Faws4_request&X-Amz-Date=20261201T101500Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
                  headers: [("Host", "h")], body: []),
    SignedRequest(method: "POST", rawPath: "/_fleetdex/presence", rawQuery: "",
                  headers: [("Host", "h"), ("x-fleetdex-token", "t")],
                  body: Array(#"[{"clientId":"c","timestamp":1796112600000,"eventType":"connected","sessionIdentifier":"s","versionNumber":1},{"topic":"$aws/events/presence/disconnected/c","payload":{"clientId":"c"}}]"#.utf8)),
]
let tokens: [[UInt8]] = ["%", "%2", "%ZZ", "%00", "&", "=", "?", "/", "//", "/../", "{", "}", "[", "]", "\"", "\\u", "\\ud800", ":", ",", "\u{0}", "\r\n",
                         ".member.", ".entry.", ".1", ".0", ".-1", ".999999999999999999999", "Action=", "X-Amz-", "Credential=", "SignedHeaders=",
                         "Signature=", "aws4_request", "99999999999999999999", "-9223372036854775808", "1e400", "true", "null", "\u{FFFF}", "\u{1F600}"]
    .map { Array($0.utf8) }

func mutate(_ b: [UInt8]) -> [UInt8] {
    var out = b
    for _ in 0...rng.below(4) {
        switch rng.below(6) {
        case 0 where !out.isEmpty: out[rng.below(out.count)] ^= UInt8(1 << rng.below(8))
        case 1: out.insert(contentsOf: tokens[rng.below(tokens.count)], at: rng.below(out.count + 1))
        case 2 where !out.isEmpty: let i = rng.below(out.count); out.removeSubrange(i..<min(out.count, i + 1 + rng.below(8)))
        case 3 where !out.isEmpty: out = Array(out.prefix(rng.below(out.count)))
        case 4: out.insert(UInt8(rng.below(256)), at: rng.below(out.count + 1))
        default: if !out.isEmpty { let i = rng.below(out.count); out.insert(contentsOf: out[i..<min(out.count, i + 16)], at: rng.below(out.count + 1)) }
        }
    }
    return out
}

func text(_ s: String) -> String { String(decoding: mutate(Array(s.utf8)), as: UTF8.self) }

func input() -> SignedRequest {
    var r = seeds[rng.below(seeds.count)]
    let other = seeds[rng.below(seeds.count)]
    switch rng.below(7) {
    case 0: r.rawPath = text(r.rawPath)
    case 1: r.rawQuery = text(rng.below(3) == 0 ? other.rawQuery : r.rawQuery)
    case 2: r.body = mutate(rng.below(4) == 0 ? other.body : r.body)
    case 3:
        if !r.headers.isEmpty {
            let i = rng.below(r.headers.count)
            r.headers[i] = (rng.below(4) == 0 ? text(r.headers[i].name) : r.headers[i].name, text(r.headers[i].value))
        }
    case 4: r.method = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "", "G\u{0}T"][rng.below(8)]
    case 5: r.headers += other.headers
    default: r.body = mutate(r.body); r.rawQuery = text(r.rawQuery)
    }
    return r
}

// A crash writes the input in hand (prepared before the call) and ends the process.
nonisolated(unsafe) var current: [UInt8] = []
nonisolated(unsafe) var crashPath: [CChar] = []
let crashDir = "Fuzz/crashes/http"
try? FileManager.default.createDirectory(atPath: crashDir, withIntermediateDirectories: true)
crashPath = Array((crashDir + "/crash-last").utf8CString)
for sig in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
    signal(sig) { _ in
        let fd = open(crashPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd >= 0 { current.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }; close(fd) }
        let m = "fuzz-http: CRASH, input saved in Fuzz/crashes/http/crash-last\nfuzz-http: 0 passed, 1 failed\n"
        _ = m.withCString { write(2, $0, strlen($0)) }
        _exit(1)
    }
}

func serialize(_ r: SignedRequest) -> [UInt8] {
    var s = "\(r.method) \(r.rawPath)?\(r.rawQuery)\n"
    for (k, v) in r.headers { s += "\(k): \(v)\n" }
    return Array((s + "\n").utf8) + r.body
}

let dispatcher = Dispatcher(configuration: ServerConfiguration(databasePath: "/nonexistent/fuzz.sqlite"),
                            pool: DatabasePool(open: { throw FleetError(.internalFailure, "the fuzzer opens no database") }), runner: nil)
let now = Int64(1_796_120_100)   // 2026-12-01T10:15:00Z: the seeds' signature time
var hangs = 0
var outcomes: [String: Int] = [:]
let start = Date()
for i in 0..<runs {
    let r = input()
    current = serialize(r)
    let t = Date()
    let out = dispatcher.decode(r, now: now)
    if Date().timeIntervalSince(t) > 1 {
        hangs += 1
        FileManager.default.createFile(atPath: "\(crashDir)/timeout-\(i)", contents: Data(current))
    }
    outcomes[String(out.prefix(40)), default: 0] += 1
}
let secs = Date().timeIntervalSince(start)
print("http       inputs \(runs)  crashes 0  hangs \(hangs)  time \(Int(secs))s  distinct outcomes \(outcomes.count)")
print("fuzz-http: \(hangs == 0 ? 1 : 0) passed, \(hangs == 0 ? 0 : 1) failed")
exit(hangs == 0 ? 0 : 1)
