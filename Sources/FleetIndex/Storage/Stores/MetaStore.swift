// FleetIndex storage: the account settings and engine bookkeeping kept in `meta` (region,
// account, indexing configuration, refresh flags), and the cross-connection change counter.
import FleetSQLite
import FleetStorage

/// The `meta` table: one text value per key.
struct MetaStore {
    let c: StoreConnection

    /// The value stored for `key`, or nil.
    func value(_ key: String) throws -> String? {
        try c.scalar("SELECT value FROM meta WHERE key = ?", [key])?.string
    }

    /// The region and account stored (nil for either not stored), in one statement.
    func account() throws -> (region: String?, account: String?) {
        var out: (region: String?, account: String?) = (nil, nil)
        try c.forEach("SELECT key, value FROM meta WHERE key IN ('region', 'account')") { r in
            if r.text(0) == "region" { out.region = r.optionalText(1) } else { out.account = r.optionalText(1) }
        }
        return out
    }

    /// Stores `value` for `key` (nil removes the key).
    func set(_ key: String, _ value: String?) throws {
        if let value {
            try c.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
        } else {
            try c.execute("DELETE FROM meta WHERE key = ?", [key])
        }
    }

    private static let storeAccount = "INSERT INTO meta(key, value) VALUES ('region', ?), ('account', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"

    /// Records the region and account every ARN is built from (once, when a database is new).
    func setAccount(region: String, account: String) throws {
        try c.execute(Self.storeAccount, [region, account])
    }

    /// A number that changes whenever another connection commits (nil when unreadable).
    func dataVersion() -> Int64? {
        let sql = c.dialect.dataVersion
        return sql.isEmpty ? nil : try? c.scalar(sql)?.int
    }

    /// Sizes the page cache for a bulk operation; `restoreCacheSize` puts it back.
    func growCacheForBulk() throws { try c.execute(script: c.dialect.bulkCacheSize) }
    func restoreCacheSize() { try? c.execute(script: c.dialect.defaultCacheSize) }
}
