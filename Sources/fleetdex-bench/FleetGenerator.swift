// fleetdex-bench: a deterministic synthetic fleet (things with 10 attributes, groups,
// shadows) and lifecycle event streams, written as the JSON Lines fleetdex imports.
import FleetTestSupport
import Foundation

struct FleetGenerator {
    var rng: SplitMix64
    let sites = (1...200).map { "site-\(String(format: "%03d", $0))" }
    let regions = ["us-east", "us-west", "eu-central", "ap-south"]
    let models = ["P200", "P300", "TH-100", "TH-200", "GW-X1", "CAM-4K"]

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    static func name(_ i: Int) -> String { "thing-" + String(format: "%07d", i) }
    static func serial(_ i: Int) -> String { "SN" + String(format: "%08d", (i &* 2654435761) % 100_000_000) }

    /// Writes `n` things to `path`.
    mutating func writeFleet(_ n: Int, to path: String) throws {
        let out = try LineFile(path)
        for i in 0..<n {
            let site = sites[Int(rng.next() % UInt64(sites.count))]
            let region = regions[Int(rng.next() % 4)]
            let model = models[Int(rng.next() % UInt64(models.count))]
            let type = ["Pump", "Meter", "Sensor"][i % 3]
            var line = #"{"thingName":"\#(Self.name(i))","thingTypeName":"\#(type)","attributes":{"site":"\#(site)","region":"\#(region)","model":"\#(model)","#
            line += #""serial":"\#(Self.serial(i))","batteryPct":"\#(rng.next() % 101)","firmware":"\#(1 + rng.next() % 3).\#(rng.next() % 10).\#(rng.next() % 10)","#
            line += #""rack":"r\#(rng.next() % 50)","owner":"team-\#(rng.next() % 20)","hwRev":"\#(rng.next() % 8)","zone":"z\#(rng.next() % 12)"}"#
            if rng.next() % 5 == 0 { line += #","thingGroupNames":["\#(["pilot", "canary", "eu-rollout", "maintenance"][Int(rng.next() % 4)])"]"# }
            if rng.next() % 10 == 0 {
                line += #","shadow":{"state":{"reported":{"temp":\#(Double(rng.next() % 1000) / 10),"mode":"\#(["eco", "boost"][Int(rng.next() % 2)])"}}}"#
            }
            line += "}"
            out.write(line)
        }
        try out.close()
    }

    /// Writes lifecycle events: `perThing` connect/disconnect pairs per thing, in time order
    /// from `start`, leaving `disconnectedShare` of the fleet disconnected at the end.
    mutating func writeEvents(things n: Int, events total: Int, start: Int64, disconnectedShare: Double, to path: String) throws {
        let out = try LineFile(path)
        var version = [Int32](repeating: 0, count: n)
        var connected = [Bool](repeating: false, count: n)
        let step = max(1, Int64(3_600_000) / Int64(max(1, total / n)))
        var ts = start
        var written = 0
        var i = 0
        while written < total {
            let t = i % n
            i += 1
            ts += Int64(rng.next() % 3) + (t == 0 ? step : 0)
            let session = "s\(t)-\(version[t])"
            if connected[t] {
                let reason = ["CONNECTION_LOST", "MQTT_KEEP_ALIVE_TIMEOUT", "CLIENT_INITIATED_DISCONNECT"][Int(rng.next() % 3)]
                out.write(#"{"clientId":"\#(Self.name(t))","timestamp":\#(ts),"eventType":"disconnected","sessionIdentifier":"\#(session)","principalIdentifier":"p","clientInitiatedDisconnect":false,"disconnectReason":"\#(reason)","versionNumber":\#(version[t])}"#)
                connected[t] = false
            } else {
                version[t] += 1
                out.write(#"{"clientId":"\#(Self.name(t))","timestamp":\#(ts),"eventType":"connected","sessionIdentifier":"s\#(t)-\#(version[t])","principalIdentifier":"p","ipAddress":"192.0.2.1","versionNumber":\#(version[t])}"#)
                connected[t] = true
            }
            written += 1
        }
        // Finish: everyone connected except the chosen share.
        let cutoff = Int(Double(n) * disconnectedShare)
        for t in 0..<n {
            ts += 1
            let wantConnected = t >= cutoff
            if connected[t] == wantConnected { continue }
            if wantConnected {
                version[t] += 1
                out.write(#"{"clientId":"\#(Self.name(t))","timestamp":\#(ts),"eventType":"connected","sessionIdentifier":"s\#(t)-\#(version[t])","versionNumber":\#(version[t])}"#)
            } else {
                out.write(#"{"clientId":"\#(Self.name(t))","timestamp":\#(ts),"eventType":"disconnected","sessionIdentifier":"s\#(t)-\#(version[t])","disconnectReason":"CONNECTION_LOST","versionNumber":\#(version[t])}"#)
            }
        }
        try out.close()
    }
}
