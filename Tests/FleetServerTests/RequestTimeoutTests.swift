// Slow clients are closed (an unfinished head or body, a silent or quiet kept-alive
// connection) while a long poll that outlasts the timeouts is answered.
import Foundation
import Testing

@Suite struct RequestTimeoutTests {
    @Test func slowClientsAreClosedAndLongPollsAnswered() throws {
        let server = try ServerProcess(["--no-evaluate", "--header-timeout", "1", "--body-timeout", "1"])
        let script = WireClientTests.clients.appendingPathComponent("slow_clients.py").path
        let (status, out) = try ServerProcess.run(["python3", script, server.endpoint])
        #expect(status == 0, "\(out)")
        #expect(out.contains("6 passed, 0 failed"), "\(out)")
        #expect(server.stop() == 0)
    }
}
