// fleetdex: a terminal chart of a metric over time (block characters, labelled axes).

enum Chart {
    static let blocks: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// Renders one column per datapoint, `height` rows tall, with value and time labels.
    static func render(_ points: [(String, Double)], title: String, height: Int = 8) -> String {
        guard !points.isEmpty else { return "\(title): no datapoints\n" }
        let maxV = max(points.map(\.1).max() ?? 0, 1)
        let label = { (v: Double) -> String in v == v.rounded() ? String(Int(v)) : String(v) }
        let width = max(label(maxV).count, 1)
        var out = title + "\n"
        for row in stride(from: height, to: 0, by: -1) {
            let rowTop = maxV * Double(row) / Double(height)
            let axis = row == height ? label(maxV) : (row == 1 ? "0" : "")
            out += String(repeating: " ", count: width - axis.count) + axis + " ┤"
            for (_, v) in points {
                let filled = v / maxV * Double(height) - Double(row - 1)
                let idx = max(0, min(8, Int((filled * 8).rounded())))
                out.append(filled >= 1 ? "█" : blocks[idx])
                _ = rowTop
            }
            out += "\n"
        }
        out += String(repeating: " ", count: width) + " └" + String(repeating: "─", count: points.count) + "\n"
        let first = points.first!.0, last = points.last!.0
        out += String(repeating: " ", count: width + 2) + short(first)
        let gap = points.count - short(first).count - short(last).count
        out += (gap > 1 ? String(repeating: " ", count: gap) + short(last) : "  … " + short(last)) + "\n"
        out += "values: " + points.map { label($0.1) }.joined(separator: " ") + "\n"
        return out
    }

    static func short(_ iso: String) -> String {
        // 2026-11-28T10:05:00+00:00 → 10:05
        let parts = iso.split(separator: "T")
        guard parts.count == 2 else { return iso }
        return String(parts[1].prefix(5))
    }
}
