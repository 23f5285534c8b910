// FleetServer console: its stylesheet and its one script, served from the binary (nothing
// is fetched from elsewhere). The script only refreshes a page marked `data-refresh`; every
// page works without it.

/// The console's static files.
enum ConsoleAssets {
    static let css = """
        :root { --fg: #16191f; --muted: #5f6b7a; --line: #d5dbdb; --bg: #f2f3f3; --accent: #0972d3; --bad: #d13212; --ok: #1d8102; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
        header.top { background: #232f3e; color: #fff; padding: 8px 16px; display: flex; gap: 18px; align-items: center; flex-wrap: wrap; }
        header.top a { color: #fff; text-decoration: none; }
        header.top a.brand { font-weight: 700; margin-right: 12px; }
        header.top form { margin-left: auto; }
        main { max-width: 1200px; margin: 16px auto; padding: 0 16px; }
        section.panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; overflow-x: auto; }
        h1 { font-size: 22px; margin: 4px 0 12px; } h2 { font-size: 17px; margin: 4px 0 10px; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { color: var(--muted); font-weight: 600; }
        a { color: var(--accent); }
        .muted { color: var(--muted); }
        .badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; background: #fde7e3; color: var(--bad); border: 1px solid #f5b9ad; margin: 1px 2px; }
        .connected { color: var(--ok); font-weight: 600; } .disconnected { color: var(--bad); font-weight: 600; }
        form.inline { display: inline; }
        input[type=text], input[type=password], select { padding: 5px 8px; border: 1px solid #879596; border-radius: 4px; font: inherit; }
        input.query { width: 70%; font-family: ui-monospace, Menlo, monospace; }
        button { padding: 5px 12px; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; font: inherit; cursor: pointer; }
        button.secondary { background: #fff; color: var(--accent); }
        pre { background: #f8f8f8; border: 1px solid var(--line); padding: 8px; overflow-x: auto; font-size: 12.5px; }
        pre.query-error { background: #fdf3f1; border-color: #f5b9ad; color: #8c1d0b; }
        .error { color: var(--bad); }
        .notice { color: var(--ok); }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
        dl.facts dt { color: var(--muted); }
        svg.chart { width: 100%; height: auto; background: #fff; }
        svg .datapoint { fill: #0972d3; } svg .datapoint.violating { fill: #d13212; }
        svg .threshold { stroke: #d13212; stroke-width: 1.5; stroke-dasharray: 6 4; }
        svg .axis { stroke: #879596; stroke-width: 1; } svg text { font-size: 11px; fill: #5f6b7a; }
        svg .alarm-span { fill: #d13212; opacity: 0.08; }
        svg .event-in-alarm { stroke: #d13212; stroke-width: 2; } svg .event-cleared { stroke: #1d8102; stroke-width: 2; }
        svg .event-invalidated { stroke: #879596; stroke-width: 2; }
        svg .bucket { fill: #0972d3; }
        .login { max-width: 380px; margin: 60px auto; }
        .login label { display: block; margin: 10px 0 4px; } .login input { width: 100%; }
        nav.pages { margin-top: 10px; }
        """

    /// The tab's icon (a browser asks for one; without it, /favicon.ico would go to the API).
    static let favicon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#232f3e"/>\
        <rect x="3" y="8" width="2" height="5" fill="#ff9900"/><rect x="7" y="5" width="2" height="8" fill="#ff9900"/>\
        <rect x="11" y="3" width="2" height="10" fill="#ff9900"/></svg>
        """

    static let js = """
        // fleetdex console: live refresh of pages marked data-refresh (seconds). Without
        // JavaScript the page is the same, refreshed by reloading it.
        (function () {
          var root = document.querySelector('[data-refresh]');
          if (!root) return;
          var seconds = parseInt(root.getAttribute('data-refresh'), 10) || 30;
          var note = document.getElementById('refresh-note');
          function refresh() {
            fetch(window.location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
              .then(function (r) { if (!r.ok || r.redirected) throw new Error(String(r.status)); return r.text(); })
              .then(function (text) {
                var doc = new DOMParser().parseFromString(text, 'text/html');
                var fresh = doc.querySelector('[data-refresh]');
                if (fresh) { root.replaceChildren.apply(root, Array.prototype.slice.call(fresh.childNodes)); }
                if (note) note.textContent = 'refreshed ' + new Date().toLocaleTimeString();
              })
              .catch(function () { if (note) note.textContent = 'refresh failed; reload the page'; });
          }
          window.setInterval(refresh, seconds * 1000);
          if (note) note.textContent = 'live: every ' + seconds + ' s';
        })();
        """
}
