// SigV4 presigned URLs as botocore makes them for a service other than S3: the canonical
// request ends with the hash of the (empty) body, not UNSIGNED-PAYLOAD (S3's presigned form,
// still accepted). The URL below is botocore 1.43's generate_presigned_url("describe_thing")
// for http://127.0.0.1:4510 with AKIDLOCAL/s3cret; the second signature was computed by hand
// over the same canonical request with UNSIGNED-PAYLOAD.
@testable import FleetServer
import Testing

@Suite struct SigV4PresignedTests {
    static let signer = SigV4(accessKeyId: "AKIDLOCAL", secretAccessKey: "s3cret", region: "us-east-1", services: ["iot"])
    static let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDLOCAL%2F20261201%2Fus-east-1%2Fiot%2Faws4_request"
        + "&X-Amz-Date=20261201T091337Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature="
    static let signedAt = SigV4.parseAmzDate("20261201T091337Z")!

    static func request(_ signature: String, body: [UInt8] = []) -> SignedRequest {
        SignedRequest(method: "GET", rawPath: "/things/thing-0000042", rawQuery: query + signature,
                      headers: [("host", "127.0.0.1:4510")], body: body)
    }

    @Test func botocorePresignedGetIsAccepted() throws {
        let v = try Self.signer.verify(Self.request("05c8f279a677bb59efeeffeac01cfba51df1498c45ac0a389fac82aac7380577"), now: Self.signedAt + 60)
        #expect(v.service == "iot")
    }

    @Test func unsignedPayloadPresignedGetIsAccepted() throws {
        let v = try Self.signer.verify(Self.request("c93c8c34591b0bc3bc61aba8f0a2396e7c3eacc6cccaafc40b58ccc1d20366b2"), now: Self.signedAt + 60)
        #expect(v.accessKeyId == "AKIDLOCAL")
    }

    @Test func presignedSignatureBindsTheBody() {
        // Signed over the empty body: the same URL with a body is another request.
        #expect(throws: SigV4Failure.mismatch) {
            try Self.signer.verify(Self.request("05c8f279a677bb59efeeffeac01cfba51df1498c45ac0a389fac82aac7380577", body: Array("{}".utf8)), now: Self.signedAt + 60)
        }
    }

    @Test func presignedGetExpires() {
        #expect(throws: SigV4Failure.self) {
            try Self.signer.verify(Self.request("05c8f279a677bb59efeeffeac01cfba51df1498c45ac0a389fac82aac7380577"), now: Self.signedAt + 901)
        }
    }
}
