// fleetdex-bench: command-line options.
import Foundation

struct BenchOptions {
    var things = 100_000
    var events: Int? = nil
    var out = "bench-out"
    var seed: UInt64 = 7
    var binary: String? = nil
    var only: Set<String> = []
    var moto = true
    /// The moto comparison's query file; moto_fleet.py is looked for beside it. Absent: the stage is skipped.
    var motoQueries = "../shared/bench/moto_queries.txt"
    var sqliteShell = true
    var reuse = false
    /// A PostgreSQL database to run on (empty, or with --reuse an earlier run's) instead of
    /// DIR/bench.sqlite.
    var dbURL: String? = nil
    /// The serve stage: where serve-sign.py, serve-wrk.lua and serve-moto.py are; seconds of each wrk run;
    /// connections posting presence; rounds of the moto query list.
    var scripts = "scripts"
    var serveSeconds = 10
    var presenceConnections = 4
    var motoRounds = 3
    /// The mqtt stage: idle sessions held open, handshakes per rate run.
    var mqttConnections = 10_000
    var mqttHandshakes = 3_000
    /// The mqtt stage's lifecycle lag: handshakes a second, for how many seconds.
    var mqttLagRate = 500
    var mqttLagSeconds = 10

    static func parse(_ args: [String]) -> BenchOptions {
        var o = BenchOptions()
        var i = 1
        func value() -> String {
            i += 1
            guard i < args.count else { FileHandle.standardError.write(Data("fleetdex-bench: \(args[i - 1]) needs a value\n".utf8)); exit(64) }
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--things": o.things = Int(value()) ?? o.things
            case "--events": o.events = Int(value())
            case "--out": o.out = value()
            case "--seed": o.seed = UInt64(value()) ?? 7
            case "--fleetdex": o.binary = value()
            case "--only": o.only = Set(value().split(separator: ",").map(String.init))
            case "--no-moto": o.moto = false
            case "--moto-queries": o.motoQueries = value()
            case "--no-sqlite-shell": o.sqliteShell = false
            case "--reuse": o.reuse = true
            case "--db-url": o.dbURL = value()
            case "--scripts": o.scripts = value()
            case "--serve-seconds": o.serveSeconds = Int(value()) ?? o.serveSeconds
            case "--presence-connections": o.presenceConnections = max(1, Int(value()) ?? o.presenceConnections)
            case "--moto-rounds": o.motoRounds = max(1, Int(value()) ?? o.motoRounds)
            case "--mqtt-connections": o.mqttConnections = max(1, Int(value()) ?? o.mqttConnections)
            case "--mqtt-handshakes": o.mqttHandshakes = max(100, Int(value()) ?? o.mqttHandshakes)
            case "--mqtt-lag-rate": o.mqttLagRate = max(1, Int(value()) ?? o.mqttLagRate)
            case "--mqtt-lag-seconds": o.mqttLagSeconds = max(1, Int(value()) ?? o.mqttLagSeconds)
            case "-h", "--help":
                print("""
                    usage: fleetdex-bench [--things N] [--events N] [--out DIR] [--seed S] [--fleetdex PATH]
                                          [--only import,describe,ingest,search,evaluate,metrics,groups,aggregate,notify,serve,mqtt,console,moto,sqlite] [--no-moto]
                                          [serve: --scripts DIR (default scripts) --serve-seconds S (10) --presence-connections N (4) --moto-rounds N (3);
                                           needs wrk, python3 with boto3, moto_server; --no-moto skips its moto part]
                                          [mqtt: --mqtt-connections N (10000 idle sessions) --mqtt-handshakes N (3000)
                                           --mqtt-lag-rate N (500 handshakes/s) --mqtt-lag-seconds S (10); Mosquitto beside if installed]
                                          [--moto-queries PATH: default ../shared/bench/moto_queries.txt, moto_fleet.py beside it]
                                          [--reuse: keep DIR/bench.sqlite from an earlier run; skips generation, import and ingest]
                                          [--db-url postgres://…/DB: run on that (empty) PostgreSQL database instead; the stages
                                           import..notify (serve, mqtt, console, sqlite and moto run on SQLite only)]
                    Builds a synthetic fleet of N things (10 attributes each) and measures every speed figure
                    of the issues; prints a table and writes DIR/bench.json.
                    """)
                exit(0)
            default:
                FileHandle.standardError.write(Data("fleetdex-bench: unknown option \(args[i])\n".utf8))
                exit(64)
            }
            i += 1
        }
        return o
    }
}
