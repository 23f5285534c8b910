// The MQTT endpoint with real clients: mosquitto_pub/mosquitto_sub, paho-mqtt (MQTT 5
// reason codes), the AWS IoT Device SDK v2, and a raw TLS client for what well-behaved
// clients never send. Each test has its own database and endpoint; time is a manual clock,
// so every event's timestamp is known. A test whose client is not installed is skipped with
// the reason (scripts/setup.sh installs them all).
import FleetDevices
import FleetIndex
import FleetMQTT
import Foundation
import Testing

private let hasMosquitto = MQTTTestBed.has("mosquitto_pub") && MQTTTestBed.has("mosquitto_sub")
private let hasPaho = MQTTTestBed.hasPython("paho.mqtt.client")
private let hasSDK = MQTTTestBed.hasPython("awsiot")
private let hasPython = MQTTTestBed.hasPython("ssl")


@Suite(.serialized) struct MQTTEndpointTests {
    /// The events of one client id.
    func of(_ events: [LifecycleEvent], _ clientId: String) -> [LifecycleEvent] { events.filter { $0.clientId == clientId } }

    @Test(.enabled(if: hasMosquitto, "mosquitto-clients is not installed (scripts/setup.sh)"))
    func mosquittoPublishSubscribe() async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let sub = try bed.device("sub-1"), pub = try bed.device("pub-1")
        let tls = { (d: Device) in ["-h", "localhost", "-p", String(bed.port), "--cafile", bed.caFile, "--cert", d.certFile, "--key", d.keyFile] }
        let (subscriber, out, _) = try bed.start("/usr/bin/mosquitto_sub", tls(sub) + ["-i", "sub-1", "-t", "sensors/+/temp", "-q", "1", "-C", "1", "-W", "20", "-v"])
        _ = await bed.waitFor { self.of($0, "sub-1").contains { $0.kind == .connected } }
        try await Task.sleep(for: .milliseconds(300))   // SUBSCRIBE after CONNACK
        let r = try bed.run("/usr/bin/mosquitto_pub", tls(pub) + ["-i", "pub-1", "-t", "sensors/a/temp", "-m", "21.5", "-q", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        subscriber.waitUntilExit()
        let got = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(got == "sensors/a/temp 21.5\n")
        let events = await bed.waitFor { evs in ["sub-1", "pub-1"].allSatisfy { id in self.of(evs, id).count == 2 } }
        for d in [sub, pub] {
            let es = of(events, d.clientId)
            #expect(es.map(\.kind) == [.connected, .disconnected])
            #expect(es.allSatisfy { $0.principal == d.certificateId && $0.version == 1 && $0.timestamp == MQTTTestBed.t0 })
            #expect(es.first?.ip == "127.0.0.1")
            #expect(es.last?.reason == "CLIENT_INITIATED_DISCONNECT" && es.last?.clientInitiated == true)
            #expect(Set(es.map(\.session)).count == 1 && es[0].session.count == 36)
        }
    }

    @Test(.enabled(if: hasMosquitto, "mosquitto-clients is not installed (scripts/setup.sh)"))
    func mosquittoRefusedWithoutCertificateOrWithForeignOne() async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let foreign = try bed.foreignDevice("outsider")
        let r = try bed.run("/usr/bin/mosquitto_pub", ["-h", "localhost", "-p", String(bed.port), "--cafile", bed.caFile, "--cert", foreign.certFile,
                                                      "--key", foreign.keyFile, "-i", "outsider", "-t", "a", "-m", "x"])
        #expect(r.status != 0)
        let none = try bed.run("/usr/bin/mosquitto_pub", ["-h", "localhost", "-p", String(bed.port), "--cafile", bed.caFile, "-i", "x", "-t", "a", "-m", "x"])
        #expect(none.status != 0)
        await bed.endpoint.drainEvents()
        #expect(bed.log.events.isEmpty)
    }

    @Test(.enabled(if: hasPaho, "paho-mqtt is not installed (scripts/setup.sh)"), arguments: ["5", "4"])
    func pahoNotAuthorizedClientId(_ proto: String) async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        // The policy allows connecting as the thing's own name only.
        let d = try bed.device("dev-a", policy: MQTTTestBed.policy(allow: [("iot:Connect", "arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}")]))
        let ok = try bed.python(ClientScripts.pahoConnect, [d.certFile, d.keyFile, "dev-a", proto])
        #expect(ok.stdout.hasPrefix("RC 0 "), "\(ok.stdout) \(ok.stderr)")
        let refused = try bed.python(ClientScripts.pahoConnect, [d.certFile, d.keyFile, "someone-else", proto])
        // MQTT 5: reason code 0x87 (135, Not authorized); paho reports 3.1.1's return code 5 as the same.
        #expect(refused.stdout.hasPrefix("RC 135 "), "\(refused.stdout) \(refused.stderr)")
        let events = await bed.waitFor { evs in evs.contains { $0.kind == .connectFailed } && self.of(evs, "dev-a").count == 2 }
        let failed = of(events, "someone-else")
        #expect(failed.map(\.kind) == [.connectFailed])
        #expect(failed.first?.reason == "AUTHORIZATION_FAILED" && failed.first?.principal == d.certificateId)
        #expect(of(events, "dev-a").map(\.kind) == [.connected, .disconnected])
    }

    /// A connection's policies that name an `iot:Certificate.*` variable get the certificate's
    /// fields (the endpoint reads them only for such policies): a Connect allowed when the
    /// subject's common name matches, refused when it does not.
    @Test(.enabled(if: hasPaho, "paho-mqtt is not installed (scripts/setup.sh)"),
          arguments: [("fleetdex IoT Certificate", "RC 0 "), ("someone else", "RC 135 ")])
    func pahoCertificateVariableInCondition(_ commonName: String, _ answer: String) async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*","#
            + #""Condition":{"StringEquals":{"iot:Certificate.Subject.CommonName":"\#(commonName)"}}}]}"#
        let d = try bed.device("cn-dev", policy: policy)
        let r = try bed.python(ClientScripts.pahoConnect, [d.certFile, d.keyFile, "cn-dev", "5"])
        #expect(r.stdout.hasPrefix(answer), "\(r.stdout) \(r.stderr)")
    }

    @Test(.enabled(if: hasPython, "python3 is not installed"))
    func rawConnackCodes() async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let d = try bed.device("raw-1", policy: MQTTTestBed.policy(allow: [("iot:Connect", "arn:aws:iot:us-east-1:123456789012:client/raw-1")]))
        let cases: [([String], String)] = [
            (["connect:raw-1:60:4", "read:1"], "R 20020000 open"),               // accepted
            (["connect:other:60:4", "read:2"], "R 20020005 closed"),             // 3.1.1 not authorized
            (["connect::60:4", "read:2"], "R 20020002 closed"),                  // empty client id: identifier rejected
            (["send:100d00044d5154540302003c000178", "read:2"], "R 20020001 closed"),  // level 3: unacceptable version
            (["send:c000", "read:2"], "R - closed"),                             // first packet not CONNECT
        ]
        for (steps, expected) in cases {
            let r = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile] + steps)
            #expect(r.stdout.contains("TLS TLSv1.3 x-amzn-mqtt-ca"), "\(r.stdout) \(r.stderr)")
            #expect(r.stdout.split(separator: "\n").last.map(String.init) == expected, "\(steps): \(r.stdout) \(r.stderr)")
        }
        let v5 = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile, "connect:other:60:5", "read:2"])
        #expect(v5.stdout.contains("R 2003008700 closed"), "\(v5.stdout)")
    }

    @Test(.enabled(if: hasSDK, "awsiotsdk is not installed (scripts/setup.sh)"), arguments: ["INACTIVE", "REVOKED"])
    func sdkRefusedCertificateStatus(_ status: String) async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let d = try bed.device("dev-\(status)", status: status)
        let r = try bed.python(ClientScripts.sdk, [d.certFile, d.keyFile, d.clientId])
        #expect(r.stdout.hasPrefix("FAILED"), "\(r.stdout) \(r.stderr)")
        await bed.endpoint.drainEvents()
        #expect(bed.log.events.isEmpty)
    }

    @Test(.enabled(if: hasSDK, "awsiotsdk is not installed (scripts/setup.sh)"))
    func sdkConnectDisconnectAndForeignCA() async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let d = try bed.device("test_thing")
        // The SDK's user name (?SDK=Python&Version=...) is ignored.
        let r = try bed.python(ClientScripts.sdk, [d.certFile, d.keyFile, "test_thing"])
        #expect(r.stdout == "CONNECTED\nDISCONNECTED\n", "\(r.stdout) \(r.stderr)")
        let events = await bed.waitFor { self.of($0, "test_thing").count == 2 }
        #expect(events.map(\.kind) == [.connected, .disconnected])
        #expect(events.last?.reason == "CLIENT_INITIATED_DISCONNECT")
        let foreign = try bed.foreignDevice("test_thing")
        let f = try bed.python(ClientScripts.sdk, [foreign.certFile, foreign.keyFile, "test_thing"])
        #expect(f.stdout.hasPrefix("FAILED"), "\(f.stdout) \(f.stderr)")
    }

    @Test(.enabled(if: hasSDK, "awsiotsdk is not installed (scripts/setup.sh)"))
    func sdkShadowUpdateGetDelta() async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let d = try bed.device("lamp")
        let r = try bed.python(ClientScripts.sdk, [d.certFile, d.keyFile, "lamp", "shadow", "lamp"])
        let lines = Dictionary(r.stdout.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: " ", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }, uniquingKeysWith: { a, _ in a })
        func json(_ k: String) throws -> JSONValue { try JSONValue.parse(lines[k] ?? "null") }
        #expect(try json("GET0")["code"]?.int64Value == 404, "\(r.stdout) \(r.stderr)")
        let accepted = try json("ACCEPTED")
        #expect(accepted["version"]?.int64Value == 1)
        #expect(accepted["clientToken"]?.stringValue == "u1")
        #expect(accepted["state"]?["desired"]?["color"]?.stringValue == "red")
        #expect(accepted["metadata"]?["reported"]?["color"]?["timestamp"]?.int64Value == MQTTTestBed.t0 / 1000)
        let delta = try json("DELTA")
        #expect(delta["state"]?.compact == #"{"color":"red"}"#, "\(r.stdout)")
        #expect(delta["version"]?.int64Value == 1)
        let documents = try json("DOCUMENTS")
        #expect(documents["previous"] == nil)
        #expect(documents["current"]?["state"]?["reported"]?["color"]?.stringValue == "blue")
        let got = try json("GET")
        #expect(got["state"]?["delta"]?.compact == #"{"color":"red"}"#)
        #expect(got["clientToken"]?.stringValue == "g1")
        #expect(try json("REJECTED")["code"]?.int64Value == 400)
        // The registry (and so the fleet index) holds the shadow.
        let stored = try Registry(try bed.db()).getThingShadow(thingName: "lamp", shadowName: nil)
        #expect(stored["state"]?["reported"]?["color"]?.stringValue == "blue")
    }

    @Test(.enabled(if: hasPaho, "paho-mqtt is not installed (scripts/setup.sh)"))
    func takeoverSubscriberSeesLifecycleEvents() async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let watcher = try bed.device("watcher"), d = try bed.device("dup")
        let (sub, out, _) = try bed.start("/usr/bin/env", ["python3", "-c", ClientScripts.pahoSubscribe, String(bed.port), bed.caFile,
                                                           watcher.certFile, watcher.keyFile, "watcher", "4", "20", "$aws/events/presence/+/dup"])
        _ = await bed.waitFor { self.of($0, "watcher").count == 1 }
        let subscribed = MQTTTestBed.readUntil(out, "READY")   // its SUBACK came
        // First connection holds; the second with the same client id takes over.
        let (first, _, _) = try bed.start("/usr/bin/env", ["python3", "-c", ClientScripts.raw, String(bed.port), bed.caFile, d.certFile, d.keyFile,
                                                           "connect:dup:60:4", "read:6"])
        _ = await bed.waitFor { self.of($0, "dup").count == 1 }
        let second = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile, "connect:dup:60:4", "read:0.5", "send:e000", "read:1"])
        #expect(second.stdout.contains("R 20020000 open"))
        first.waitUntilExit()
        sub.waitUntilExit()
        // The new session's connected event may come before the old one's disconnected: by version.
        let events = of(await bed.waitFor { self.of($0, "dup").count == 4 }, "dup")
        let one = events.filter { $0.version == 1 }, two = events.filter { $0.version == 2 }
        #expect(one.map(\.kind) == [.connected, .disconnected] && two.map(\.kind) == [.connected, .disconnected])
        #expect(one.last?.reason == "DUPLICATE_CLIENTID" && one.last?.clientInitiated == false)
        #expect(Set(one.map(\.session)).count == 1 && Set(two.map(\.session)).count == 1 && one[0].session != two[0].session)
        #expect(two.last?.reason == "CLIENT_INITIATED_DISCONNECT")
        let seen = subscribed + String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let messages = seen.split(separator: "\n").filter { $0.hasPrefix("MSG ") }
        #expect(messages.count == 4, "\(seen)")
        #expect(messages.first?.hasPrefix("MSG $aws/events/presence/connected/dup {\"clientId\":\"dup\"") == true)
        #expect(messages.contains { $0.hasPrefix("MSG $aws/events/presence/disconnected/dup ") && $0.contains("\"disconnectReason\":\"DUPLICATE_CLIENTID\"") })
    }

    /// An endpoint that starts on a database where the client already has sessions (a
    /// restart) numbers the next one after the stored versionNumber, so it is not stale.
    @Test(.enabled(if: hasMosquitto, "mosquitto-clients is not installed (scripts/setup.sh)"))
    func versionNumbersContinueFromTheStoredSessions() async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let d = try bed.device("again-1")
        let earlier = MQTTTestBed.t0 - 60_000
        for e in [LifecycleEvent(clientId: "again-1", timestamp: earlier, kind: .connected, session: "old", version: 5, reason: nil),
                  LifecycleEvent(clientId: "again-1", timestamp: earlier + 1, kind: .disconnected, session: "old", version: 5, reason: "SERVER_INITIATED_DISCONNECT")] {
            _ = try Presence(try bed.db()).ingest(e)
        }
        let tls = ["-h", "localhost", "-p", String(bed.port), "--cafile", bed.caFile, "--cert", d.certFile, "--key", d.keyFile]
        let r = try bed.run("/usr/bin/mosquitto_pub", tls + ["-i", "again-1", "-t", "x/y", "-m", "1", "-q", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        let events = of(await bed.waitFor { self.of($0, "again-1").count == 2 }, "again-1")
        #expect(events.map(\.version) == [6, 6])
        // Applied, not stale: the thing is connected after the connect.
        #expect(try Presence(try bed.db()).ingest(events[0]) == .accepted)
    }

    /// A will is a PUBLISH of the client's: one on a reserved topic (a forged lifecycle event)
    /// is not sent, though the client's policy allows publishing anywhere.
    @Test(.enabled(if: hasPaho, "paho-mqtt is not installed (scripts/setup.sh)"))
    func aWillOnAReservedTopicIsNotSent() async throws {
        let bed = try await MQTTTestBed(minimumKeepAlive: 1)
        defer { Task { await bed.stop() } }
        let watcher = try bed.device("watcher2"), d = try bed.device("forger")
        let (sub, out, _) = try bed.start("/usr/bin/env", ["python3", "-c", ClientScripts.pahoSubscribe, String(bed.port), bed.caFile,
                                                           watcher.certFile, watcher.keyFile, "watcher2", "3", "6", "$aws/events/presence/#"])
        _ = await bed.waitFor { self.of($0, "watcher2").count == 1 }
        let subscribed = MQTTTestBed.readUntil(out, "READY")   // its SUBACK came
        let connect = hex(MQTTEncoder.encode(.connect(.init(version: .v311, clientId: "forger", keepAlive: 30,
                                                            will: .init(topic: "$aws/events/presence/disconnected/victim", payload: Array("forged".utf8)))), version: .v311))
        let r = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile, "send:" + connect, "read:0.3", "drop"])
        #expect(r.stdout.contains("R 20020000 open"), "\(r.stdout) \(r.stderr)")
        sub.waitUntilExit()
        let seen = subscribed + String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(!seen.contains("forged") && !seen.contains("/victim"), "\(seen)")
        #expect(seen.contains("MSG $aws/events/presence/disconnected/forger "), "the real event is published: \(seen)")
    }

    @Test(.enabled(if: hasPaho, "paho-mqtt is not installed (scripts/setup.sh)"))
    func keepAliveTimeoutConnectionLostAndWill() async throws {
        let bed = try await MQTTTestBed(minimumKeepAlive: 1)
        defer { Task { await bed.stop() } }
        let watcher = try bed.device("watcher"), d = try bed.device("quiet")
        let (sub, out, _) = try bed.start("/usr/bin/env", ["python3", "-c", ClientScripts.pahoSubscribe, String(bed.port), bed.caFile,
                                                           watcher.certFile, watcher.keyFile, "watcher", "2", "20", "last/will/#"])
        _ = await bed.waitFor { self.of($0, "watcher").count == 1 }
        let subscribed = MQTTTestBed.readUntil(out, "READY")   // its SUBACK came
        // Keep-alive 1 s (the test endpoint's minimum), with a will; then silence: closed after 1.5 s.
        let fixed = hex(MQTTEncoder.encode(.connect(.init(version: .v311, clientId: "quiet", keepAlive: 1,
                                                          will: .init(topic: "last/will", payload: Array("boo".utf8)))), version: .v311))
        let r = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile, "send:" + fixed, "read:4"])
        #expect(r.stdout.contains("R 20020000 closed"), "\(r.stdout) \(r.stderr)")
        // A connection dropped without DISCONNECT: CONNECTION_LOST (and the will again).
        let lost = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile, "send:" + fixed, "read:0.3", "drop"])
        #expect(lost.stdout.contains("R 20020000 open"))
        sub.waitUntilExit()
        let events = of(await bed.waitFor { self.of($0, "quiet").count == 4 }, "quiet")
        #expect(events.map(\.reason) == [nil, "MQTT_KEEP_ALIVE_TIMEOUT", nil, "CONNECTION_LOST"])
        let seen = subscribed + String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(seen.components(separatedBy: "MSG last/will boo").count == 3, "\(seen)")
    }

    @Test(.enabled(if: hasPython, "python3 is not installed"))
    func malformedPacketsCloseTheConnectionOnly() async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let d = try bed.device("fuzzy", policy: MQTTTestBed.policy(deny: [("iot:Publish", "arn:aws:iot:us-east-1:123456789012:topic/forbidden")]))
        let cases: [(String, String)] = [
            ("send:30ffffffff01", "CLIENT_ERROR"),          // remaining length of 5 bytes
            ("send:3081800800", "CLIENT_ERROR"),            // announces more than 128 KB
            ("send:3400016100010078", "CLIENT_ERROR"),      // QoS 2 PUBLISH: AWS IoT has no QoS 2
            ("send:300003612f2b", "CLIENT_ERROR"),          // wildcard in a topic name
            ("send:100c00044d5154540402003c0000", "CLIENT_ERROR"),  // a second CONNECT
            ("send:300b0009666f7262696464656e", "AUTH_ERROR"),   // PUBLISH to a denied topic (3.1.1)
            // A forged lifecycle event: $aws/events/ is reserved whatever the policy says.
            ("send:" + hex(MQTTEncoder.encode(.publish(.init(topic: "$aws/events/presence/connected/x", payload: Array("{}".utf8))), version: .v311)), "AUTH_ERROR"),
            // A shadow service response topic is reserved too.
            ("send:" + hex(MQTTEncoder.encode(.publish(.init(topic: "$aws/things/fuzzy/shadow/update/accepted", payload: [])), version: .v311)), "AUTH_ERROR"),
        ]
        for (i, (step, reason)) in cases.enumerated() {
            let r = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile, "connect:fuzzy:60:4", "read:0.3", step, "read:2"])
            #expect(r.stdout.contains("R - closed"), "\(step): \(r.stdout) \(r.stderr)")
            let events = of(await bed.waitFor { self.of($0, "fuzzy").count == 2 * (i + 1) }, "fuzzy")
            #expect(events.last?.reason == reason, "\(step)")
        }
        // The endpoint still answers.
        let after = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile, "connect:fuzzy:60:4", "read:0.5", "send:c000", "read:0.5", "send:e000", "read:1"])
        #expect(after.stdout.contains("R d000 closed") || after.stdout.contains("R d000 open"), "\(after.stdout)")
    }

    @Test(.enabled(if: hasPython, "python3 is not installed"))
    func subscribeAuthorizationAndServerShutdown() async throws {
        let bed = try await MQTTTestBed()
        let d = try bed.device("sub-x", policy: MQTTTestBed.policy(deny: [("iot:Subscribe", "arn:aws:iot:us-east-1:123456789012:topicfilter/secret/*")]))
        // SUBSCRIBE id 1: "open/#" QoS 1, "secret/#" QoS 1, "bad/#/x" QoS 0, "q2" QoS 2 → 1, 0x80, 0x80, 1 (QoS 2 granted as 1).
        let packet = hex(MQTTEncoder.encode(.subscribe(.init(packetId: 1, subscriptions: [
            .init(filter: "open/#", qos: 1), .init(filter: "secret/#", qos: 1), .init(filter: "bad/#/x", qos: 0), .init(filter: "q2", qos: 2),
        ])), version: .v311))
        let (p, out, _) = try bed.start("/usr/bin/env", ["python3", "-c", ClientScripts.raw, String(bed.port), bed.caFile, d.certFile, d.keyFile,
                                                         "connect:sub-x:60:4", "read:0.3", "send:" + packet, "read:1", "read:5"])
        _ = await bed.waitFor { self.of($0, "sub-x").count == 1 }
        // The server stops once the client has its SUBACK (the read after the SUBSCRIBE ends),
        // however long a loaded machine takes to get there.
        let subscribed = MQTTTestBed.readUntil(out, "R 90")
        await bed.stop()
        p.waitUntilExit()
        let text = subscribed + String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("R 9006000101808001 "), "\(text)")
        #expect(text.hasSuffix(" closed\n"), "\(text)")
        #expect(of(bed.log.events, "sub-x").last?.reason == "SERVER_INITIATED_DISCONNECT")
    }

    @Test(.enabled(if: hasPython, "python3 is not installed"))
    func subscriptionQuotaOf50() async throws {
        let bed = try await MQTTTestBed()
        defer { Task { await bed.stop() } }
        let d = try bed.device("many")
        let packet = hex(MQTTEncoder.encode(.subscribe(.init(packetId: 7, subscriptions: (0...50).map { .init(filter: "f/\($0)", qos: 0) })), version: .v311))
        let r = try bed.python(ClientScripts.raw, [d.certFile, d.keyFile, "connect:many:60:4", "read:0.3", "send:" + packet, "read:1"])
        // SUBACK: remaining length 53, packet id 7, 50 granted QoS 0, the 51st refused.
        #expect(r.stdout.contains("R 90350007" + String(repeating: "00", count: 50) + "80 open"), "\(r.stdout)")
    }
}
