// FleetServer console: a Defender metric over a time range as SVG: one bar
// (`rect.datapoint`) per 5-minute datapoint ListMetricValues returns, the behaviors'
// thresholds as dashed lines, and the violation history (in alarm, cleared, invalidated)
// on the same time axis below, with the spans in alarm shaded.
import FleetIndex

/// One metric's chart.
struct MetricChart {
    struct Threshold { var behavior: String; var value: Double; var condition: String }
    struct Event { var time: Int64; var type: String; var behavior: String; var value: Double? }

    var metric: String
    var from: Int64
    var to: Int64
    /// (tick, value), ascending.
    var points: [(Int64, Double)]
    var thresholds: [Threshold]
    /// The behaviors whose datapoints count as violating (bars drawn red).
    var behaviors: [Behavior]
    var events: [Event]

    static let width = 960.0, left = 56.0, right = 12.0, top = 12.0, plotHeight = 180.0
    static let laneTop = 204.0, laneHeight = 22.0, height = 262.0
    static let tick: Int64 = 5 * 60 * 1000

    var plotWidth: Double { Self.width - Self.left - Self.right }

    func x(_ t: Int64) -> Double {
        let span = Double(max(1, to - from))
        return Self.left + min(max(Double(t - from) / span, 0), 1) * plotWidth
    }

    var yMax: Double {
        let m = max(points.map(\.1).max() ?? 0, thresholds.map(\.value).max() ?? 0, 1)
        return m * 1.15
    }

    func y(_ v: Double) -> Double { Self.top + Self.plotHeight - min(max(v / yMax, 0), 1) * Self.plotHeight }

    func svg() -> HTML {
        var out: [HTML] = []
        // Spans in alarm: from an in-alarm event to the next clear or invalidation of its behavior.
        var open: [String: Int64] = [:]
        for e in events.sorted(by: { $0.time < $1.time }) {
            if e.type == "in-alarm" { if open[e.behavior] == nil { open[e.behavior] = e.time } }
            else if let start = open.removeValue(forKey: e.behavior) { out.append(span(start, e.time, e.behavior)) }
        }
        for (b, start) in open.sorted(by: { $0.key < $1.key }) { out.append(span(start, to, b)) }
        // Axes.
        let base = Self.top + Self.plotHeight
        out.append("<line class=\"axis\" x1=\"\(Self.left)\" y1=\"\(base)\" x2=\"\(Self.width - Self.right)\" y2=\"\(base)\"/>")
        out.append("<line class=\"axis\" x1=\"\(Self.left)\" y1=\"\(Self.top)\" x2=\"\(Self.left)\" y2=\"\(base)\"/>")
        for f in [0.0, 0.5, 1.0] {
            let v = yMax / 1.15 * f
            out.append("<text x=\"\(Self.left - 6)\" y=\"\(y(v) + 4)\" text-anchor=\"end\">\(HTML.number(v))</text>")
        }
        let long = to - from > 2 * 86_400_000
        for i in 0...4 {
            let t = from + (to - from) * Int64(i) / 4
            let iso = ConsoleFormat.time(t)
            let label = long ? String(iso.prefix(10)) : String(iso.dropFirst(11).prefix(5))
            let anchor: HTML = i == 0 ? "start" : (i == 4 ? "end" : "middle")
            out.append("<text x=\"\(x(t))\" y=\"\(Self.height - 6)\" text-anchor=\"\(anchor)\">\(label)</text>")
        }
        // One bar per datapoint: the value over the 5 minutes ending at its tick.
        let barWidth = max(1, x(from + Self.tick) - x(from) - 0.5)
        for (t, v) in points {
            let x1 = max(Self.left, x(t) - barWidth)
            let violating = behaviors.contains { $0.violates(v) }
            let cls = violating ? "datapoint violating" : "datapoint"
            out.append("""
                <rect class="\(cls)" data-time="\(ConsoleFormat.time(t))" data-value="\(HTML.number(v))" x="\(x1)" y="\(y(v))" \
                width="\(barWidth)" height="\(max(0, base - y(v)))"><title>\(ConsoleFormat.time(t)): \(HTML.number(v))</title></rect>
                """)
        }
        for th in thresholds {
            out.append("""
                <line class="threshold" data-threshold="\(HTML.number(th.value))" data-behavior="\(th.behavior)" x1="\(Self.left)" y1="\(y(th.value))" \
                x2="\(Self.width - Self.right)" y2="\(y(th.value))"><title>\(th.behavior): alert when \(th.condition)</title></line>
                <text x="\(Self.width - Self.right - 4)" y="\(y(th.value) - 4)" text-anchor="end">\(th.behavior) \(HTML.number(th.value))</text>
                """)
        }
        // The violation history, on the same axis.
        out.append("<text x=\"\(Self.left - 6)\" y=\"\(Self.laneTop + 15)\" text-anchor=\"end\">alarms</text>")
        for e in events {
            let cls = e.type == "in-alarm" ? "event-in-alarm" : (e.type == "alarm-cleared" ? "event-cleared" : "event-invalidated")
            let value: String = e.value.map { " (\(HTML.number($0)))" } ?? ""
            out.append("""
                <line class="violation-event \(cls)" data-type="\(e.type)" x1="\(x(e.time))" y1="\(Self.laneTop)" x2="\(x(e.time))" \
                y2="\(Self.laneTop + Self.laneHeight)"><title>\(ConsoleFormat.time(e.time)) \(e.type): \(e.behavior)\(value)</title></line>
                """)
        }
        return """
            <svg class="chart" data-metric="\(metric)" data-from="\(ConsoleFormat.time(from))" data-to="\(ConsoleFormat.time(to))" \
            viewBox="0 0 \(Self.width) \(Self.height)" role="img" aria-label="\(metric) from \(ConsoleFormat.time(from)) to \(ConsoleFormat.time(to))" \
            xmlns="http://www.w3.org/2000/svg">\(out)</svg>
            """
    }

    func span(_ start: Int64, _ end: Int64, _ behavior: String) -> HTML {
        let x1 = x(start), x2 = x(end)
        return "<rect class=\"alarm-span\" x=\"\(x1)\" y=\"\(Self.top)\" width=\"\(max(1, x2 - x1))\" height=\"\(Self.laneTop + Self.laneHeight - Self.top)\"><title>\(behavior) in alarm</title></rect>"
    }
}
