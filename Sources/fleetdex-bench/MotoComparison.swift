// fleetdex-bench: the moto peer. The same generated fleet (moto_fleet.py --generate 20000
// --seed 7) and the same query file (--moto-queries, moto_fleet.py beside it) run through moto
// and through fleetdex; result sets are compared and the per-query time ratio is reported.
import FleetIndex
import Foundation

struct MotoComparison {
    let bench: Bench

    func python(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    func run() throws {
        let out = bench.o.out
        // The query file (--moto-queries) and, beside it, the peer that runs it through moto.
        let queries = bench.o.motoQueries
        let script = URL(fileURLWithPath: queries).deletingLastPathComponent().appendingPathComponent("moto_fleet.py").path
        guard FileManager.default.fileExists(atPath: queries) else {
            print("  moto: no query file at \(queries) (--moto-queries PATH); skipped")
            return
        }
        guard FileManager.default.fileExists(atPath: script) else {
            print("  moto: no moto_fleet.py beside \(queries); skipped")
            return
        }
        let dataset = out + "/moto_fleet.jsonl", result = out + "/moto.json"
        guard try python([script, "--generate", "20000", "--seed", "7", "--write-dataset", dataset]) == 0,
              try python([script, "--dataset", dataset, "--queries", queries, "--out", result, "--quiet", "--repeat", "3"]) == 0 else {
            print("  moto: moto_fleet.py failed (is moto installed?); skipped")
            return
        }
        let moto = try JSONValue.parse(String(contentsOfFile: result, encoding: .utf8))
        let dbPath = out + "/moto-peer.sqlite"
        for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + s) }
        let db = try FleetDatabase(path: dbPath)
        _ = try Importer(db).importThings(try LineReader(path: dataset), at: 0)
        let search = Search(db)
        var agree = 0, documented = 0, differ: [String] = []
        var ratios: [Double] = []
        var perQuery: [JSONValue] = []
        for q in moto["queries"]?.arrayValue ?? [] {
            guard let text = q["query"]?.stringValue else { continue }
            var names: [String] = []
            var times: [Double] = []
            for _ in 0..<3 {
                names = []
                let t0 = Bench.clock()
                var token: String? = nil
                repeat {
                    let r = try search.searchIndex(indexName: nil, query: text, maxResults: 500, nextToken: token, at: 0)
                    names += (r["things"]?.arrayValue ?? []).compactMap { $0["thingName"]?.stringValue }
                    token = r["nextToken"]?.stringValue
                } while token != nil
                times.append((Bench.clock() - t0) * 1000)
            }
            let ours = bench.median(times)
            let theirs = q["median_ms"]?.doubleValue ?? 0
            let motoNames = (q["things"]?.arrayValue ?? []).compactMap(\.stringValue).sorted()
            let note = q["note"]?.stringValue ?? ""
            let same = q["ok"]?.boolValue == true && motoNames == names.sorted()
            if same { agree += 1 } else if note.contains("moto:") { documented += 1 } else { differ.append(text) }
            if ours > 0 && theirs > 0 { ratios.append(theirs / ours) }
            perQuery.append(jsonObject([("query", .string(text)), ("fleetdexMs", .double((ours * 1000).rounded() / 1000)), ("motoMs", .double(theirs)),
                                        ("count", .int(names.count)), ("motoCount", .int(motoNames.count)),
                                        ("agree", .bool(same)), ("motoDivergenceDocumented", .bool(!same && note.contains("moto:")))]))
        }
        bench.record("moto", "queries with identical result sets (of \(perQuery.count))", Double(agree), "queries")
        bench.record("moto", "queries that differ where moto's notes say it departs from AWS", Double(documented), "queries")
        bench.record("moto", "queries that differ otherwise", Double(differ.count), "queries", target: "0", ok: differ.isEmpty)
        bench.record("moto", "median per-query speed-up over moto (moto ms / fleetdex ms)", bench.median(ratios), "x")
        bench.extra["moto"] = .array(perQuery)
        if !differ.isEmpty { print("  moto: differing queries: \(differ.prefix(5).joined(separator: " | "))") }
    }
}
