// SigV4 as AWS publishes it: the signature test suite's get-vanilla requests and the IAM
// ListUsers example of the SigV4 documentation, then every way a signature can be wrong,
// then requests signed by botocore itself (header and presigned).
@testable import FleetServer
import Foundation
import Testing

@Suite struct SigV4Tests {
    /// Percent-decoding of query names and values: each escape of two hex digits (either
    /// case) is a byte; anything else is kept as it came.
    @Test(arguments: [
        ("plain", "plain"), ("a%2Fb", "a/b"), ("a%2fb", "a/b"), ("%E2%82%AC", "\u{20AC}"), ("%", "%"), ("%4", "%4"),
        ("%41", "A"), ("x%zz", "x%zz"), ("%+1", "%+1"), ("100%", "100%"), ("%%41", "%A"), ("a+b", "a+b"),
    ])
    func percentDecoding(_ raw: String, _ decoded: String) {
        #expect(SigV4.percentDecode(raw) == decoded)
    }

    /// The query's pairs are decoded once, and again when the raw query changes.
    @Test func queryItemsFollowTheRawQuery() {
        var r = SignedRequest(method: "GET", rawPath: "/things/a", rawQuery: "X-Amz-Date=20150830T123600Z&x=%2F", headers: [], body: [])
        #expect(r.queryItems.map { "\($0.0)=\($0.1)" } == ["X-Amz-Date=20150830T123600Z", "x=/"])
        r.rawQuery = "nextToken=a%3Db&empty="
        #expect(r.queryItems.map { "\($0.0)=\($0.1)" } == ["nextToken=a=b", "empty="])
        r.rawQuery = ""
        #expect(r.queryItems.isEmpty)
    }

    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let at = SigV4.parseAmzDate("20150830T123600Z")!

    static func verifier(region: String = "us-east-1", services: Set<String> = ["service", "iam"], secret: String = secret) -> SigV4 {
        SigV4(accessKeyId: "AKIDEXAMPLE", secretAccessKey: secret, region: region, services: services)
    }

    static func request(_ query: String = "", host: String = "example.amazonaws.com", service: String = "service",
                        extra: [(String, String)] = [], signed: String = "host;x-amz-date", date: String = "20150830T123600Z",
                        signature: String) -> SignedRequest {
        SignedRequest(method: "GET", rawPath: "/", rawQuery: query,
                      headers: [("Host", host), ("X-Amz-Date", date)] + extra
                        + [("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\(date.prefix(8))/us-east-1/\(service)/aws4_request, SignedHeaders=\(signed), Signature=\(signature)")],
                      body: [])
    }

    /// AWS's published values verify.
    @Test(arguments: [
        ("get-vanilla", request(signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        ("get-vanilla-query-order-key-case", request("Param2=value2&Param1=value1", signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")),
        ("iam ListUsers", request("Action=ListUsers&Version=2010-05-08", host: "iam.amazonaws.com", service: "iam",
                                  extra: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], signed: "content-type;host;x-amz-date",
                                  signature: "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")),
    ])
    func publishedExamplesVerify(_ name: String, _ r: SignedRequest) throws {
        let v = try Self.verifier().verify(r, now: Self.at)
        #expect(v.accessKeyId == "AKIDEXAMPLE", "\(name)")
    }

    static let vanilla = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

    /// Each wrong part is refused with its own reason.
    @Test(arguments: [
        ("wrong secret", verifier(secret: "not-the-secret"), request(signature: vanilla), Self.at, "mismatch"),
        ("one digit off", verifier(), request(signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30"), Self.at, "mismatch"),
        ("a changed query", verifier(), request("Param1=value1", signature: vanilla), Self.at, "mismatch"),
        ("another host", verifier(), request(host: "evil.example.com", signature: vanilla), Self.at, "mismatch"),
        ("another region", verifier(region: "eu-west-1"), request(signature: vanilla), Self.at, "badScope"),
        ("a service not served", verifier(services: ["iot"]), request(signature: vanilla), Self.at, "badScope"),
        ("16 minutes late", verifier(), request(signature: vanilla), Self.at + 16 * 60, "expired"),
        ("16 minutes early", verifier(), request(signature: vanilla), Self.at - 16 * 60, "expired"),
        ("host not signed", verifier(), request(signed: "x-amz-date", signature: vanilla), Self.at, "malformed"),
        ("a bad date", verifier(), request(date: "2015-08-30T12:36", signature: vanilla), Self.at, "malformed"),
    ])
    func wrongSignaturesAreRefused(_ name: String, _ v: SigV4, _ r: SignedRequest, _ now: Int64, _ expected: String) {
        do {
            _ = try v.verify(r, now: now)
            Issue.record("\(name): verified")
        } catch {
            let kind = "\(error)".prefix { $0 != "(" }
            #expect(String(kind) == expected, "\(name): \(error)")
        }
    }

    @Test func withinFifteenMinutesVerifies() throws {
        for skew: Int64 in [-15 * 60, -60, 0, 60, 15 * 60] {
            _ = try Self.verifier().verify(Self.request(signature: Self.vanilla), now: Self.at + skew)
        }
    }

    @Test func unsignedAndUnknownKeys() {
        let unsigned = SignedRequest(method: "GET", rawPath: "/", rawQuery: "", headers: [("Host", "h")], body: [])
        #expect(throws: SigV4Failure.missing) { try Self.verifier().verify(unsigned, now: Self.at) }
        var other = Self.request(signature: Self.vanilla)
        other.headers = other.headers.map { $0.name == "Authorization" ? ($0.name, $0.value.replacingOccurrences(of: "AKIDEXAMPLE", with: "AKIDOTHER")) : $0 }
        #expect(throws: SigV4Failure.unknownKey("AKIDOTHER")) { try Self.verifier().verify(other, now: Self.at) }
    }

    /// Requests signed by botocore (the signer every AWS SDK for Python uses): a POST with a
    /// body and an odd path, and a presigned GET.
    @Test func botocoreSignedRequestsVerify() throws {
        let script = #"""
            import json, datetime, botocore.auth, botocore.awsrequest, botocore.credentials
            from unittest import mock
            creds = botocore.credentials.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
            out = []
            with mock.patch("botocore.auth.get_current_datetime", return_value=datetime.datetime(2015, 8, 30, 12, 36, 0)):
                r = botocore.awsrequest.AWSRequest(method="PATCH", url="http://127.0.0.1:4510/things/a%3Ab%20c?x=1&y=a%2Fb",
                                                   data=b'{"attributePayload":{"attributes":{"k":"v"}}}', headers={"Content-Type": "application/json"})
                botocore.auth.SigV4Auth(creds, "iot", "us-east-1").add_auth(r)
                out.append({"method": r.method, "url": r.url, "headers": dict(r.headers), "body": r.body.decode()})
                q = botocore.awsrequest.AWSRequest(method="GET", url="http://127.0.0.1:4510/things/pump-17?x=1")
                botocore.auth.SigV4QueryAuth(creds, "iot", "us-east-1", expires=900).add_auth(q)
                out.append({"method": q.method, "url": q.url, "headers": dict(q.headers), "body": ""})
            print(json.dumps(out))
            """#
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "botocore is needed: pip install botocore")
        let requests = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(requests.count == 2)
        for r in requests {
            let url = r["url"] as! String
            let afterHost = url.dropFirst("http://127.0.0.1:4510".count)
            let parts = afterHost.split(separator: "?", maxSplits: 1)
            var headers = (r["headers"] as! [String: String]).map { (name: $0.key, value: $0.value) }
            headers.append((name: "host", value: "127.0.0.1:4510"))
            let req = SignedRequest(method: r["method"] as! String, rawPath: String(parts[0]), rawQuery: parts.count > 1 ? String(parts[1]) : "",
                                    headers: headers, body: Array((r["body"] as! String).utf8))
            let v = SigV4(accessKeyId: "AKIDEXAMPLE", secretAccessKey: Self.secret, region: "us-east-1", services: ["iot"])
            #expect(throws: Never.self, "\(url)") { _ = try v.verify(req, now: Self.at + 60) }
            var tampered = req
            tampered.body = Array("{}".utf8)
            if !req.body.isEmpty { #expect(throws: SigV4Failure.mismatch) { _ = try v.verify(tampered, now: Self.at + 60) } }
            if req.rawQuery.contains("X-Amz-Expires") {
                #expect(throws: SigV4Failure.self) { _ = try v.verify(req, now: Self.at + 901) }
            }
        }
    }
}
