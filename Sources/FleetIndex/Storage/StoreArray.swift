// FleetIndex storage: PostgreSQL array literals (`{1,NULL,3}`, `{"a","b \"c\""}`), bound as one
// text parameter each and cast in the statement (`?::bigint[]`), so a batch of rows travels
// in one statement through `unnest`. Values never enter SQL text.
import FleetStorage

/// Array literals for batched statements on PostgreSQL.
public enum StoreArray {
    public static func integers(_ xs: [Int64?]) -> String {
        "{" + xs.map { $0.map(String.init) ?? "NULL" }.joined(separator: ",") + "}"
    }

    /// Every element quoted (`"` and `\` escaped), so no text reads as NULL or splits.
    public static func texts(_ xs: [String?]) -> String {
        var out = "{"
        for (i, x) in xs.enumerated() {
            if i > 0 { out += "," }
            guard let x else { out += "NULL"; continue }
            out += "\""
            for ch in x.unicodeScalars {
                if ch == "\"" || ch == "\\" { out.unicodeScalars.append("\\") }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return out + "}"
    }

    /// Doubles as PostgreSQL reads them back exactly (the dialect's parameter text).
    public static func reals(_ xs: [Double?]) -> String {
        "{" + xs.map { $0.map { PostgresDialect.parameterText(.real($0)) } ?? "NULL" }.joined(separator: ",") + "}"
    }

    public static func flags(_ xs: [Bool]) -> String {
        "{" + xs.map { $0 ? "t" : "f" }.joined(separator: ",") + "}"
    }
}
