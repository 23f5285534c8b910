// fleetdex-bench: the console stage. fleetdex-server on the bench's database, logged in
// once with curl, then each console page fetched 7 times over loopback; the figure is the
// median of curl's time_total (request sent to last byte read: the server's rendering plus
// loopback HTTP), against issue 18's 50 ms a page.
import FleetIndex
import Foundation

struct ConsoleBench {
    let bench: Bench
    var o: BenchOptions { bench.o }

    func run() throws {
        let serve = ServeBench(bench: bench)
        let server = try serve.startServer(db: bench.dbPath, name: "console-server")
        defer { server.stop() }
        let jar = o.out + "/console-cookies.txt"
        try? FileManager.default.removeItem(atPath: jar)
        let (status, _) = try ServeBench.run(["curl", "-s", "-o", "/dev/null", "-c", jar, "--data-urlencode", "accessKeyId=\(serve.key)",
                                              "--data-urlencode", "secretAccessKey=\(serve.secret)", server.url + "/console/login"])
        guard status == 0 else { throw FleetError(.internalFailure, "curl could not log in to the console") }
        // A thing that exists in the generated fleet, a profile and a dynamic group if the earlier stages made them.
        // A disconnected thing (its chart has bars and violations), over the day before the last evaluated tick.
        let thing = try bench.db.connection.sqlite!.scalar("SELECT name FROM thing WHERE connected = 0 ORDER BY id LIMIT 1")?.string
            ?? bench.db.connection.sqlite!.scalar("SELECT name FROM thing ORDER BY id LIMIT 1")?.string ?? "thing-0"
        let lastTick = try bench.db.connection.sqlite!.scalar("SELECT max(tick) FROM evaluated_tick")?.int ?? bench.start
        let range = "from=\(lastTick - 86_400_000)&to=\(lastTick)"
        let profile = try bench.db.connection.sqlite!.scalar("SELECT name FROM security_profile ORDER BY id LIMIT 1")?.string
        let group = try bench.db.connection.sqlite!.scalar("SELECT name FROM thing_group WHERE query IS NOT NULL ORDER BY id LIMIT 1")?.string
        var pages: [(String, String)] = [
            ("overview", "/console"),
            ("search: disconnected", "/console/things?query=connectivity.connected%3Afalse"),
            ("search: disconnected at a site", "/console/things?query=connectivity.connected%3Afalse%20AND%20attributes.site%3Asite-042"),
            ("thing (24 h chart)", "/console/things/\(thing)?\(range)"),
            ("thing (31 d chart)", "/console/things/\(thing)?from=\(lastTick - 31 * 86_400_000)&to=\(lastTick)"),
            ("profiles", "/console/profiles"),
            ("groups", "/console/groups"),
            ("alerts", "/console/alerts"),
        ]
        if let profile { pages.append(("profile + violations", "/console/profiles/\(profile)")) }
        if let group { pages.append(("dynamic group", "/console/groups/\(group)")) }
        // The search page's second page, through the engine's nextToken.
        let (_, first) = try ServeBench.run(["curl", "-s", "-b", jar, server.url + "/console/things?query=connectivity.connected%3Afalse"])
        if let r = first.range(of: "id=\"next-page\" rel=\"next\" href=\"") {
            let href = first[r.upperBound...].prefix { $0 != "\"" }.replacingOccurrences(of: "&amp;", with: "&")
            pages.append(("search: next page", href))
        }
        for (name, path) in pages {
            var times: [Double] = []
            var code = ""
            for _ in 0..<7 {
                let (_, out) = try ServeBench.run(["curl", "-s", "-o", "/dev/null", "-b", jar, "-w", "%{http_code} %{time_total}", server.url + path])
                let parts = out.split(separator: " ")
                code = parts.first.map(String.init) ?? ""
                times.append((Double(parts.last ?? "") ?? 0) * 1000)
            }
            let ms = bench.median(times)
            bench.record("console", "\(name) (HTTP \(code))", ms, "ms", target: "< 50 ms", ok: code == "200" && ms < 50)
        }
    }
}
