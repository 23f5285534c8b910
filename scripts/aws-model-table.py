#!/usr/bin/env python3
"""Write Model/aws-operations.json: the AWS operations fleetdex implements, from botocore.

    pip install botocore && python3 scripts/aws-model-table.py          # (re)write the table
    python3 scripts/aws-model-table.py --check                          # exit 1 if the committed table is stale
    python3 scripts/aws-model-table.py --out PATH                       # write elsewhere

The table is read from the installed botocore's service models (nothing is fetched) and is
what the tests check fleetdex's JSON output against (Tests/fleetdexTests/ModelShape.swift);
the HTTP server's routing and member binding are meant to read it too. For each service:
its metadata (protocol, apiVersion, jsonVersion, targetPrefix, signingName, endpointPrefix,
...) and every error shape it declares (code, httpStatusCode, senderFault, fault, members). For each
operation: service, name, protocol, HTTP method, request URI template, success status
code, the errors it may return, and its input and output shapes expanded all the way down.

A shape is written as one node:
    {"shape": NAME, "type": structure|list|map|string|integer|long|float|double|boolean|timestamp|blob,
     ...its constraints (enum, min, max, pattern, sensitive, ...)}
  structure: "members": {name: node}, "requiredMembers": [names, sorted]; its members' nodes
             also carry what the member reference says: "required" (true/false), "location",
             "locationName", "jsonvalue", "idempotencyToken", "streaming", "flattened", ...
  An operation's input and output members always have a "location": botocore's uri,
  querystring, header, headers or statusCode, else "payload" for the member the structure
  names as its payload (the whole HTTP body: a blob or a structure), else "body" (a member of
  the JSON body, or of the query parameters for the query protocol). Nested members have none.
  list:      "member": node
  map:       "key": node, "value": node
Keys are sorted and the output is byte-for-byte the same for the same botocore version.
Documentation strings are dropped; any other model key this script does not know stops it,
so a new botocore cannot drop information silently.
"""
import argparse
import json
import os
import sys

try:
    import botocore
    import botocore.session
except ImportError:
    sys.exit("aws-model-table: botocore is not installed (pip install botocore)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "Model", "aws-operations.json")

# The operations fleetdex implements, by botocore service name. Keep this list explicit:
# it is the contract of the CLI (Sources/fleetdex/Commands/*.swift, which take the `aws iot`
# operation names; `fleetdex sns ...` and `fleetdex sqs ...` are the sns and sqs groups) and
# of the HTTP server. fleetdex's own commands (ingest-events, connect, disconnect, run,
# evaluate, search, queries, group-report, import-things, demo) are not AWS operations.
OPERATIONS = {
    "iot": [
        # the device endpoint's address (fleetdex serve)
        "DescribeEndpoint",
        # registry: things (RegistryCommands.swift)
        "CreateThing", "DescribeThing", "UpdateThing", "DeleteThing", "ListThings",
        # registry: thing types
        "CreateThingType", "DescribeThingType", "ListThingTypes", "DeprecateThingType", "DeleteThingType",
        # registry: static thing groups and membership
        "CreateThingGroup", "DescribeThingGroup", "UpdateThingGroup", "ListThingGroups", "DeleteThingGroup",
        "AddThingToThingGroup", "RemoveThingFromThingGroup", "ListThingsInThingGroup", "ListThingGroupsForThing",
        # fleet index and aggregations (IndexCommands.swift, AggregationCommands.swift)
        "SearchIndex", "GetStatistics", "GetCardinality", "GetPercentiles", "GetBucketsAggregation",
        "UpdateIndexingConfiguration", "GetIndexingConfiguration", "DescribeIndex", "ListIndices",
        # dynamic thing groups (GroupCommands.swift)
        "CreateDynamicThingGroup", "UpdateDynamicThingGroup", "DeleteDynamicThingGroup",
        # Device Defender Detect (DefenderCommands.swift)
        "CreateSecurityProfile", "UpdateSecurityProfile", "DescribeSecurityProfile", "DeleteSecurityProfile",
        "ListSecurityProfiles", "AttachSecurityProfile", "DetachSecurityProfile", "ListTargetsForSecurityProfile",
        "ListSecurityProfilesForTarget", "ValidateSecurityProfileBehaviors", "ListActiveViolations",
        "ListViolationEvents", "PutVerificationStateOnViolation", "ListMetricValues",
        # mitigation (MitigationCommands.swift)
        "CreateMitigationAction", "DescribeMitigationAction", "ListMitigationActions", "DeleteMitigationAction",
        "StartDetectMitigationActionsTask", "ListDetectMitigationActionsExecutions",
        "DescribeDetectMitigationActionsTask",
        # certificates and thing principals (DeviceCommands.swift)
        "CreateKeysAndCertificate", "CreateCertificateFromCsr", "RegisterCertificateWithoutCA",
        "DescribeCertificate", "ListCertificates", "UpdateCertificate", "DeleteCertificate",
        "AttachThingPrincipal", "DetachThingPrincipal", "ListThingPrincipals", "ListPrincipalThings",
        # policies
        "CreatePolicy", "GetPolicy", "ListPolicies", "DeletePolicy", "CreatePolicyVersion",
        "ListPolicyVersions", "GetPolicyVersion", "SetDefaultPolicyVersion", "DeletePolicyVersion",
        "AttachPolicy", "DetachPolicy", "ListAttachedPolicies", "ListTargetsForPolicy", "TestAuthorization",
    ],
    "iot-data": [
        # shadows: the CLI's update-/get-/delete-thing-shadow print the shadow document itself
        # (the operations' output is a blob payload); ListNamedShadowsForThing and Publish are
        # for the HTTP server.
        "GetThingShadow", "UpdateThingShadow", "DeleteThingShadow", "ListNamedShadowsForThing",
        "Publish",
    ],
    "sns": [
        # `fleetdex sns ...` (NotificationCommands.swift)
        "CreateTopic", "ListTopics", "DeleteTopic", "Subscribe", "Unsubscribe", "ListSubscriptions",
        "ListSubscriptionsByTopic", "Publish",
    ],
    "sqs": [
        # `fleetdex sqs ...` (NotificationCommands.swift)
        "CreateQueue", "ListQueues", "GetQueueUrl", "GetQueueAttributes", "SetQueueAttributes",
        "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "PurgeQueue",
        "DeleteQueue",
    ],
}

# Service metadata kept (the rest, such as documentation, is dropped).
METADATA_KEYS = ["apiVersion", "awsQueryCompatible", "endpointPrefix", "jsonVersion", "protocol", "protocols",
                 "serviceFullName", "serviceId", "signatureVersion", "signingName", "targetPrefix", "uid",
                 "xmlNamespace"]

# Shape keys: kept as they are, turned into nodes, or dropped. Anything else is an error.
SHAPE_KEEP = {"type", "enum", "min", "max", "pattern", "sensitive", "box", "exception", "fault",
              "payload", "flattened", "deprecated", "timestampFormat", "event", "eventstream", "union",
              "document", "streaming", "requiresLength", "xmlNamespace", "xmlOrder", "wrapper",
              "retryable", "awsQueryError"}
SHAPE_DROP = {"documentation", "deprecatedMessage", "members", "member", "key", "value", "required",
              "error"}  # error: written by error_entry as code, httpStatusCode, senderFault
# Keys of a member reference (a structure member, a list member, a map key or value, an
# operation's input or output).
REF_KEEP = {"location", "locationName", "jsonvalue", "idempotencyToken", "hostLabel", "streaming", "flattened",
            "box", "deprecated", "timestampFormat", "xmlNamespace", "xmlAttribute", "queryName",
            "eventpayload", "eventheader", "resultWrapper", "contextParam"}
REF_DROP = {"documentation", "deprecatedMessage", "shape"}
OPERATION_KEEP = {"idempotent", "deprecated", "endpoint", "httpChecksumRequired", "requestcompression",
                  "authtype", "auth", "unsignedPayload"}
OPERATION_DROP = {"name", "http", "input", "output", "errors", "documentation", "deprecatedMessage",
                  "documentationUrl", "alias", "staticContextParams", "httpChecksum", "endpointdiscovery",
                  "contextParams"}
HTTP_KEYS = {"method", "requestUri", "responseCode", "authtype"}


class ModelError(Exception):
    pass


def unknown(where, keys, known):
    extra = sorted(set(keys) - known)
    if extra:
        raise ModelError(f"{where}: model keys this script does not know: {', '.join(extra)} "
                         "(add them to the KEEP or DROP sets of scripts/aws-model-table.py)")


def node(shapes, name, ref, stack):
    """The node of shape `name` reached through member reference `ref`, expanded all the way down."""
    if name in stack:
        raise ModelError(f"recursive shape {' -> '.join(stack + [name])}: the table has no form for it yet")
    shape = shapes[name]
    unknown(f"shape {name}", shape, SHAPE_KEEP | SHAPE_DROP)
    out = {"shape": name}
    for k in SHAPE_KEEP:
        if k in shape:
            out[k] = shape[k]
    kind = shape["type"]
    stack = stack + [name]
    if kind == "structure":
        required = set(shape.get("required", []))
        members = shape.get("members", {})
        missing = required - set(members)
        if missing:
            raise ModelError(f"shape {name}: required members that are not members: {sorted(missing)}")
        out["members"] = {m: member(shapes, r, stack, m in required) for m, r in members.items()}
        out["requiredMembers"] = sorted(required)
    elif kind == "list":
        out["member"] = member(shapes, shape["member"], stack, None)
    elif kind == "map":
        out["key"] = member(shapes, shape["key"], stack, None)
        out["value"] = member(shapes, shape["value"], stack, None)
    if ref is not None:
        unknown(f"a reference to {name}", ref, REF_KEEP | REF_DROP)
        for k in REF_KEEP:
            if k in ref:
                out[k] = ref[k]
    return out


def member(shapes, ref, stack, required):
    out = node(shapes, ref["shape"], ref, stack)
    if required is not None:
        out["required"] = required
    return out


def locate(top):
    """Give every member of an operation's input or output structure its location."""
    if top is None:
        return None
    for name, m in top.get("members", {}).items():
        if "location" not in m:
            m["location"] = "payload" if top.get("payload") == name else "body"
    return top


def error_entry(shapes, name):
    out = node(shapes, name, None, [])
    meta = shapes[name].get("error", {})
    unknown(f"error metadata of {name}", meta, {"code", "httpStatusCode", "senderFault"})
    # The error code on the wire: the model's `error.code` when it gives one (the query
    # protocol's codes), else the shape name (what botocore matches rest-json and json errors on).
    out["code"] = meta.get("code", name)
    if "httpStatusCode" in meta:
        out["httpStatusCode"] = meta["httpStatusCode"]
    if "senderFault" in meta:
        out["senderFault"] = meta["senderFault"]
    return out


def service_table(session, service, wanted):
    data = session.get_service_data(service)
    meta = data["metadata"]
    shapes = data["shapes"]
    table = {"metadata": {k: meta[k] for k in METADATA_KEYS if k in meta}}
    # botocore signs with the endpoint prefix when the model names no signing name (sns).
    table["metadata"]["signingName"] = meta.get("signingName", meta["endpointPrefix"])
    table["metadata"]["protocols"] = meta.get("protocols", [meta["protocol"]])
    table["errors"] = {name: error_entry(shapes, name)
                       for name, shape in shapes.items() if shape.get("exception")}
    operations = {}
    for name in wanted:
        if name not in data["operations"]:
            raise ModelError(f"{service} has no operation {name} in botocore {botocore.__version__}")
        op = data["operations"][name]
        unknown(f"operation {service} {name}", op, OPERATION_KEEP | OPERATION_DROP)
        unknown(f"http of {service} {name}", op["http"], HTTP_KEYS)
        entry = {
            "service": service,
            "operation": name,
            "protocol": meta["protocol"],
            "method": op["http"]["method"],
            "requestUri": op["http"]["requestUri"],
            # botocore's default success status is 200 when the model gives none.
            "responseCode": op["http"].get("responseCode", 200),
            "errors": sorted(e["shape"] for e in op.get("errors", [])),
            "input": locate(node(shapes, op["input"]["shape"], op["input"], [])) if "input" in op else None,
            "output": locate(node(shapes, op["output"]["shape"], op["output"], [])) if "output" in op else None,
        }
        for k in OPERATION_KEEP:
            if k in op:
                entry[k] = op[k]
        if meta["protocol"] == "json":
            entry["target"] = f"{meta['targetPrefix']}.{name}"       # the X-Amz-Target header
        if meta["protocol"] == "query":
            entry["action"] = name                                    # the Action parameter
        for e in entry["errors"]:
            if e not in table["errors"]:
                raise ModelError(f"{service} {name}: error {e} is not an exception shape")
        operations[name] = entry
    table["operations"] = operations
    return table


def generate():
    session = botocore.session.get_session()
    doc = {
        "about": "The AWS operations fleetdex implements, from botocore's service models. "
                 "Generated by scripts/aws-model-table.py; do not edit.",
        "botocoreVersion": botocore.__version__,
        "operationCount": sum(len(v) for v in OPERATIONS.values()),
        "services": {s: service_table(session, s, ops) for s, ops in OPERATIONS.items()},
    }
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if the committed table differs from a fresh one")
    p.add_argument("--out", default=DEFAULT_OUT, help="the table's path (default Model/aws-operations.json)")
    args = p.parse_args(argv)
    try:
        text = generate()
    except ModelError as e:
        print(f"aws-model-table: {e}", file=sys.stderr)
        return 2
    if args.check:
        try:
            with open(args.out, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"aws-model-table: {os.path.relpath(args.out)} is not what botocore {botocore.__version__} "
                  "gives; run python3 scripts/aws-model-table.py and commit the result", file=sys.stderr)
            return 1
        print(f"aws-model-table: {os.path.relpath(args.out)} is current (botocore {botocore.__version__})")
        return 0
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"aws-model-table: wrote {os.path.relpath(args.out)} (botocore {botocore.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
