// FleetServer console: the frame every page shares (navigation, logout, the stylesheet and
// the script) and the headers every console answer carries.

/// Page frame and response helpers.
enum ConsoleLayout {
    /// No inline script or style anywhere: everything comes from the console's own files.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static var securityHeaders: [(String, String)] {
        [("Content-Security-Policy", contentSecurityPolicy), ("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
         ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store")]
    }

    static let sections: [(key: String, title: String, href: String)] = [
        ("overview", "Overview", "/console"), ("things", "Things", "/console/things"), ("profiles", "Security profiles", "/console/profiles"),
        ("groups", "Dynamic groups", "/console/groups"), ("alerts", "Alerts", "/console/alerts"),
    ]

    /// A whole page. `session` nil: the login page (no navigation). `refresh`: seconds
    /// between live refreshes of `#content` by the script.
    static func page(_ title: String, section: String?, body: HTML, session: ConsoleSessions.Session?, status: Int = 200,
                     refresh: Int? = nil, headers: [(String, String)] = []) -> WireResponse {
        var nav: HTML = ""
        if let session {
            let links = sections.map { s -> HTML in
                s.key == section ? "<a href=\"\(s.href)\" aria-current=\"page\"><b>\(s.title)</b></a>" : "<a href=\"\(s.href)\">\(s.title)</a>"
            }
            nav = """
                <header class="top"><a class="brand" href="/console">fleetdex console</a>\(links)\
                <form class="inline" method="post" action="/console/logout"><input type="hidden" name="csrf" value="\(session.csrf)">\
                <button class="secondary" type="submit">Log out</button></form></header>
                """
        }
        let refreshAttr: HTML = refresh.map { " data-refresh=\"\($0)\"" } ?? ""
        let note: HTML = refresh != nil ? "<p class=\"muted\" id=\"refresh-note\">reload the page for fresh figures</p>" : ""
        let doc: HTML = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · fleetdex</title><link rel="stylesheet" href="/console/static/console.css">
            <link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml">
            <script src="/console/static/console.js" defer></script></head>
            <body>\(nav)<main>\(note)<div id="content"\(refreshAttr)>\(body)</div></main></body></html>
            """
        return WireResponse(status: status, contentType: "text/html; charset=utf-8", text: doc.text, headers: securityHeaders + headers)
    }

    /// 303 See Other: after a form, and to the login page.
    static func redirect(_ location: String, headers: [(String, String)] = []) -> WireResponse {
        WireResponse(status: 303, contentType: "text/plain; charset=utf-8", text: "see \(location)\n",
                     headers: [("Location", location)] + securityHeaders + headers)
    }

    /// A page saying what went wrong.
    static func problem(_ status: Int, _ title: String, _ message: String, session: ConsoleSessions.Session?) -> WireResponse {
        page(title, section: nil, body: "<section class=\"panel\"><h1>\(title)</h1><p class=\"error\">\(message)</p></section>",
             session: session, status: status)
    }

    static func asset(_ text: String, type: String) -> WireResponse {
        WireResponse(status: 200, contentType: type, text: text,
                     headers: [("Cache-Control", "max-age=300"), ("X-Content-Type-Options", "nosniff"), ("Content-Security-Policy", contentSecurityPolicy)])
    }
}
