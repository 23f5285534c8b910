// FleetServer console: the operator's pages in a browser, under `/console` on serve's port.
// Server-rendered HTML from the engine's operations (the functions the CLI and the wire
// operations call), the API's key pair as the login, a session cookie (HttpOnly,
// SameSite=Strict) holding only a random token, a CSRF token on every form that changes
// something, every value escaped (HTML), no inline script (Content-Security-Policy).
import FleetIndex

/// Answers `/console…` (and `/`, sent to `/console`).
public final class Console: Sendable {
    let pool: DatabasePool
    let clock: any FleetClock
    let accessKeyId: String
    let secretAccessKey: String
    let queriesDirectory: String
    public let sessions = ConsoleSessions()

    public static let cookieName = "fleetdex_console"

    public init(pool: DatabasePool, clock: any FleetClock, accessKeyId: String, secretAccessKey: String, queriesDirectory: String) {
        self.pool = pool
        self.clock = clock
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.queriesDirectory = queriesDirectory
    }

    /// Whether the console answers this request: `/console…`, and a browser's plain `GET /`
    /// (the SNS and SQS protocols post to `/`, and a signed or query-carrying GET is the API's).
    public static func owns(_ r: SignedRequest) -> Bool {
        if r.rawPath == "/console" || r.rawPath.hasPrefix("/console/") { return true }
        return r.rawPath == "/" && r.method == "GET" && r.rawQuery.isEmpty && r.header("authorization") == nil
    }

    public func handle(_ r: SignedRequest) async -> WireResponse {
        if r.rawPath == "/" { return ConsoleLayout.redirect("/console") }
        let now = clock.now()
        let token = ConsoleRequest.cookie(Self.cookieName, in: r)
        let session = sessions.session(token, now: now)
        guard r.body.count <= ConsoleRequest.maxFormBytes else {
            return ConsoleLayout.problem(413, "Too large", "A console form is at most \(ConsoleRequest.maxFormBytes) bytes.", session: session)
        }
        let req = ConsoleRequest(r)
        guard r.method == "GET" || r.method == "HEAD" || r.method == "POST" else {
            return ConsoleLayout.problem(405, "Method not allowed", "The console takes GET and POST.", session: session)
        }
        switch (r.method, req.segments) {
        case (_, ["static", "console.css"]): return ConsoleLayout.asset(ConsoleAssets.css, type: "text/css; charset=utf-8")
        case (_, ["static", "console.js"]): return ConsoleLayout.asset(ConsoleAssets.js, type: "text/javascript; charset=utf-8")
        case (_, ["static", "favicon.svg"]): return ConsoleLayout.asset(ConsoleAssets.favicon, type: "image/svg+xml")
        case ("POST", ["login"]): return login(req, now: now)
        case (_, ["login"]):
            if session != nil { return ConsoleLayout.redirect(Self.safeNext(req.query["next"])) }
            return LoginPage.render(next: Self.safeNext(req.query["next"]), error: nil)
        default: break
        }
        guard let session else {
            let back = r.rawPath + (r.rawQuery.isEmpty ? "" : "?" + r.rawQuery)
            return ConsoleLayout.redirect(ConsoleFormat.url("/console/login", [("next", r.method == "GET" ? back : nil)]))
        }
        if r.method == "POST" {
            guard let sent = req.form["csrf"], ConsoleSessions.constantTimeEqual(sent, session.csrf) else {
                return ConsoleLayout.problem(403, "Refused", "This form has no valid CSRF token: reload the page and send it again.", session: session)
            }
            if req.segments == ["logout"] {
                sessions.end(session.token)
                return ConsoleLayout.redirect("/console/login", headers: [("Set-Cookie", Self.cookie("", maxAge: 0))])
            }
        }
        do {
            // The pages read (their work stops when the browser goes); the forms write.
            let post = r.method == "POST"
            return try await pool.run(post ? .write : .read, interruptible: !post) { [queriesDirectory] db in
                let c = ConsoleContext(db: db, now: now, request: req, session: session, queries: SavedQueries(directory: queriesDirectory))
                return try self.route(c)
            }
        } catch let e as FleetError {
            return ConsoleLayout.problem(e.httpStatus == 404 ? 404 : (e.code.isBadInput ? 400 : e.httpStatus), e.exception, e.message, session: session)
        } catch {
            return ConsoleLayout.problem(500, "Error", "\(error)", session: session)
        }
    }

    func route(_ c: ConsoleContext) throws -> WireResponse {
        let post = c.request.method == "POST"
        let s = c.request.segments
        switch (post, s.count, s.first ?? "") {
        case (false, 0, _): return try OverviewPage.render(c)
        case (false, 1, "things"): return try SearchPage.render(c)
        case (false, 2, "things"): return try ThingPage.render(c, thing: s[1])
        case (true, 1, "queries"): return try SearchPage.save(c)
        case (false, 1, "profiles"): return try ProfilesPage.list(c)
        case (false, 2, "profiles"): return try ProfilesPage.render(c, profile: s[1])
        case (true, 3, "violations") where s[2] == "verification": return try ProfilesPage.verify(c, violationId: s[1])
        case (false, 1, "groups"): return try GroupsPage.list(c, error: nil)
        case (true, 1, "groups"): return try GroupsPage.create(c)
        case (false, 2, "groups"): return try GroupsPage.render(c, group: s[1])
        case (false, 1, "alerts"): return try AlertsPage.render(c)
        default: return ConsoleLayout.problem(404, "Not found", "The console has no page /console/\(s.joined(separator: "/")).", session: c.session)
        }
    }

    /// Checks the key pair (both parts compared in constant time, always both) and starts a session.
    func login(_ req: ConsoleRequest, now: Int64) -> WireResponse {
        let id = req.form["accessKeyId"] ?? "", secret = req.form["secretAccessKey"] ?? ""
        let idOK = ConsoleSessions.constantTimeEqual(id, accessKeyId)
        let secretOK = ConsoleSessions.constantTimeEqual(secret, secretAccessKey)
        let next = Self.safeNext(req.form["next"])
        guard idOK && secretOK else {
            return LoginPage.render(next: next, error: "The access key id or the secret access key is wrong.", status: 401)
        }
        let s = sessions.create(now: now)
        return ConsoleLayout.redirect(next, headers: [("Set-Cookie", Self.cookie(s.token, maxAge: ConsoleSessions.lifetime / 1000))])
    }

    /// The session cookie: for the console's paths only, never readable by script, never sent
    /// from another site.
    static func cookie(_ value: String, maxAge: Int64) -> String {
        "\(cookieName)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
    }

    /// Where to go after logging in: a console path only (no open redirect).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/console"), !next.hasPrefix("//"), !next.contains("\\"),
              !next.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return "/console" }
        if next.hasPrefix("/console/login") { return "/console" }
        return next
    }
}
