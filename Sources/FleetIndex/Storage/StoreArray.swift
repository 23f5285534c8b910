// FleetIndex storage: the array parameters of the stores' batched statements on PostgreSQL,
// as `PostgresArray` writes them (`{1,NULL,3}`, `{"a","b \"c\""}`), bound as one text
// parameter each and cast in the statement (`?::bigint[]`). Values never enter SQL text.
import FleetPostgres
import FleetStorage

/// Array literals for batched statements on PostgreSQL.
public enum StoreArray {
    public static func integers(_ xs: [Int64?]) -> String { PostgresArray.literal(xs) }

    /// Every element quoted (`"` and `\` escaped), so no text reads as NULL or splits.
    public static func texts(_ xs: [String?]) -> String { PostgresArray.literal(xs) }

    public static func flags(_ xs: [Bool]) -> String { PostgresArray.literal(xs) }

    /// Doubles as PostgreSQL reads them back exactly (the dialect's parameter text).
    public static func reals(_ xs: [Double?]) -> String {
        "{" + xs.map { $0.map { PostgresDialect.parameterText(.real($0)) } ?? "NULL" }.joined(separator: ",") + "}"
    }
}
