// The console in a real browser: `fleetdex serve` started as the other server tests start
// it, a fleet written into its database with the engine, and headless Chromium driven by
// selenium (ConsoleBrowser/console_browser.py) through login → search → thing page chart →
// save query → dynamic group → bad query. Screenshots: .build/console-screenshots/.
import FleetIndex
import Foundation
import Testing

@Suite(.serialized) struct ConsoleBrowserTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("ConsoleBrowser/console_browser.py")
    static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/console-screenshots")

    /// chromium, chromedriver and selenium (scripts/setup.sh installs them).
    static let available: Bool = {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
            && ((try? ServerProcess.run(["python3", "-c", "import selenium"]))?.0 == 0)
    }()

    @Test(.enabled(if: available, "skipped: the browser test needs chromium, chromium-driver (apt) and selenium (pip); scripts/setup.sh installs them"))
    func walkthroughInChromium() throws {
        let server = try ServerProcess()
        try ConsoleFixture.seed(try FleetDatabase(path: server.database))
        let from = "2026-11-28T09:30:00Z", to = "2026-11-28T11:00:00Z"
        let db = try FleetDatabase(path: server.database)
        let bars = try Defender(db).listMetricValues(thingName: "pump-17", metric: "aws:disconnect-duration", start: Timestamp.parse(from)!,
                                                     end: Timestamp.parse(to)!, dimension: nil, maxResults: 10_000, nextToken: nil)["metricDatumList"]?.arrayValue?.count ?? 0
        #expect(bars == 6)
        let (status, out) = try ServerProcess.run(["python3", Self.script.path, server.endpoint, "AKIDLOCAL", "s3cret", from, to, String(bars),
                                                   Self.screenshots.path])
        #expect(status == 0, "\(out)")
        #expect(out.contains(" 0 failed"), "\(out)")
        #expect(server.stop() == 0)
    }
}
