// FleetServer: the JSON 1.0 protocol (SQS): `X-Amz-Target: AmazonSQS.Operation`, a JSON body
// of the input members, a JSON answer. SQS is query-compatible: errors carry the
// `x-amzn-query-error: Code;Sender` header that botocore reads for the error code, beside
// `__type` in the body.
import FleetIndex

struct JSONProtocol {
    let service: ServiceModel

    func bind(_ r: SignedRequest) throws(FleetError) -> (OperationModel, OperationInput) {
        let target = r.header("x-amz-target") ?? ""
        let prefix = (service.targetPrefix ?? "") + "."
        guard target.hasPrefix(prefix), let op = service.operations[String(target.dropFirst(prefix.count))] else {
            throw FleetError(.unknownOperation, "no \(service.name) operation is called '\(target)'")
        }
        guard !r.body.isEmpty else { return (op, OperationInput(.object([]))) }
        let doc: JSONValue
        do { doc = try JSONValue.parse(bytes: r.body) } catch { throw FleetError(.serialization, "the request body is not valid JSON: \(error)") }
        guard case .object = doc else { throw FleetError(.serialization, "the request body must be a JSON object") }
        return (op, OperationInput(doc))
    }

    func respond(_ op: OperationModel, _ output: JSONValue) -> WireResponse {
        WireResponse(status: 200, headers: [("Content-Type", "application/x-amz-json-1.0")], body: JSONBytes.encode(output))
    }

    /// The error shape name for `__type` and the query code for the header: SQS's queue-missing
    /// error is `QueueDoesNotExist` in JSON and `AWS.SimpleQueueService.NonExistentQueue` in query.
    static let shapes = ["AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist", "QueueAlreadyExists": "QueueNameExists"]

    static func error(_ e: FleetError, service: ServiceModel) -> WireResponse {
        let shape = shapes[e.exception] ?? e.exception
        let fault = e.httpStatus >= 500 ? "Receiver" : "Sender"
        let body = jsonObject([("__type", .string("com.amazonaws.\(service.name)#\(shape)")), ("message", .string(e.message))])
        return WireResponse(status: e.httpStatus, headers: [("Content-Type", "application/x-amz-json-1.0"),
                                                            ("x-amzn-query-error", "\(e.exception);\(fault)")],
                            body: JSONBytes.encode(body))
    }
}
