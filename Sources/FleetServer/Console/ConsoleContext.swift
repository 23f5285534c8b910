// FleetServer console: what a page is rendered with: its own database handle, the server's
// clock reading for this request, the request, the session and the saved-query files.
import FleetIndex

/// One request being answered by a page.
struct ConsoleContext {
    let db: FleetDatabase
    /// The dispatcher's injected clock, read once for the request (epoch ms).
    let now: Int64
    let request: ConsoleRequest
    let session: ConsoleSessions.Session
    let queries: SavedQueries

    /// The hidden field every form that changes something carries.
    var csrfField: HTML { "<input type=\"hidden\" name=\"csrf\" value=\"\(session.csrf)\">" }
}
