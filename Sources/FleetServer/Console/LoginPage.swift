// FleetServer console: the login form: the same key pair as the API (serve's
// --access-key-id and --secret-access-key).

/// The login page.
enum LoginPage {
    static func render(next: String, error: String?, status: Int = 200) -> WireResponse {
        let problem: HTML = error.map { "<p class=\"error\" role=\"alert\">\($0)</p>" } ?? ""
        let body: HTML = """
            <section class="panel login"><h1>fleetdex console</h1>
            <p class="muted">Log in with the access key pair the server's API takes.</p>\(problem)
            <form method="post" action="/console/login" autocomplete="off">
            <input type="hidden" name="next" value="\(next)">
            <label for="accessKeyId">Access key id</label><input type="text" id="accessKeyId" name="accessKeyId" required>
            <label for="secretAccessKey">Secret access key</label><input type="password" id="secretAccessKey" name="secretAccessKey" required>
            <p><button type="submit" id="login">Log in</button></p></form></section>
            """
        return ConsoleLayout.page("Log in", section: nil, body: body, session: nil, status: status)
    }
}
