// FleetDevices storage: device certificates, the database's certificate authority, and thing
// principals (the attachments of certificates to things).
import FleetIndex
import FleetSQLite
import FleetStorage

/// A stored certificate.
struct CertificateRecord {
    var rowid: Int64, id: String, pem: String, status: String, caId: String?, mode: String
    var notBefore: Int64, notAfter: Int64, generation: String, customerVersion: Int64, created: Int64, modified: Int64

    static let columns = "id, certificate_id, pem, status, ca_certificate_id, mode, not_before, not_after, generation_id, customer_version, created_at, modified_at"

    /// Columns: `columns`.
    init(row s: StoreRow) {
        (rowid, id, pem, status, caId, mode) = (s.int(0), s.text(1), s.text(2), s.text(3), s.optionalText(4), s.text(5))
        (notBefore, notAfter, generation, customerVersion, created, modified) = (s.int(6), s.int(7), s.text(8), s.int(9), s.int(10), s.int(11))
    }
}

/// Certificates, the CA and thing principals.
struct CertificateStore {
    let c: StoreConnection

    // MARK: certificates

    func exists(certificateId id: String) throws -> Bool {
        try c.scalar("SELECT 1 FROM certificate WHERE certificate_id = ?", [id]) != nil
    }

    func insert(certificateId id: String, pem: String, status: String, caId: String?, mode: String,
                notBefore: Int64, notAfter: Int64, generation: String, at now: Int64) throws {
        // Distributed by the certificate's own key.
        let (sql, binds) = c.keyedInsert(into: "certificate", keyColumn: "id", name: id,
                                         columns: "certificate_id, pem, status, ca_certificate_id, mode, not_before, not_after, generation_id, created_at, modified_at",
                                         values: "?, ?, ?, ?, ?, ?, ?, ?, ?, ?", [id, pem, status, caId, mode, notBefore, notAfter, generation, now, now])
        try c.execute(sql, binds)
    }

    private static let byId = "SELECT " + CertificateRecord.columns + " FROM certificate WHERE certificate_id = ?"

    func certificate(_ id: String) throws -> CertificateRecord? {
        try c.query(Self.byId, [id], CertificateRecord.init(row:)).first
    }

    /// A page in creation order (newest first unless `ascending`), after the position (created_at, id).
    func certificates(after position: (created: Int64, rowid: Int64)?, ascending: Bool, limit: Int) throws -> [CertificateRecord] {
        var sql = "SELECT " + CertificateRecord.columns + " FROM certificate"
        var binds: [SQLiteValue] = []
        if let position {
            sql += ascending ? " WHERE (created_at, id) > (?, ?)" : " WHERE (created_at, id) < (?, ?)"
            binds = [.integer(position.created), .integer(position.rowid)]
        }
        sql += ascending ? " ORDER BY created_at, id LIMIT ?" : " ORDER BY created_at DESC, id DESC LIMIT ?"
        binds.append(.integer(Int64(limit)))
        return try c.query(sql, binds, CertificateRecord.init(row:))
    }

    func setStatus(_ rowid: Int64, _ status: String, at now: Int64) throws {
        try c.execute("UPDATE certificate SET status = ?, modified_at = ?, customer_version = customer_version + 1 WHERE id = ?", [status, now, rowid])
    }

    func delete(_ rowid: Int64) throws {
        try c.execute("DELETE FROM certificate WHERE id = ?", [rowid])
    }

    // MARK: the certificate authority

    func insertAuthority(certificateId: String, pem: String, keyAlgorithm: String, at now: Int64) throws {
        try c.execute("INSERT INTO certificate_authority(id, certificate_id, pem, key_algorithm, created_at) VALUES (1, ?, ?, ?, ?)",
                      [certificateId, pem, keyAlgorithm, now])
    }

    func authority() throws -> (certificateId: String, pem: String, keyAlgorithm: String)? {
        try c.query("SELECT certificate_id, pem, key_algorithm FROM certificate_authority WHERE id = 1") { ($0.text(0), $0.text(1), $0.text(2)) }.first
    }

    // MARK: thing principals

    func thingID(named name: String) throws -> Int64? {
        try c.scalar("SELECT id FROM thing WHERE name = ?", [name])?.int
    }

    func isAttachedToAThing(principal: String) throws -> Bool {
        try c.scalar("SELECT 1 FROM thing_principal WHERE principal = ? LIMIT 1", [principal]) != nil
    }

    /// The things a principal is attached to (optionally but one), with the attachment type, by name.
    func things(ofPrincipal principal: String, except thing: Int64? = nil) throws -> [(name: String, type: String)] {
        if let thing {
            return try c.query("SELECT t.name, p.type FROM thing_principal AS p JOIN thing AS t ON t.id = p.thing WHERE p.principal = ? AND p.thing <> ?",
                               [principal, thing]) { ($0.text(0), $0.text(1)) }
        }
        return try c.query("""
            SELECT t.name, p.type FROM thing_principal AS p JOIN thing AS t ON t.id = p.thing WHERE p.principal = ? ORDER BY t.name
            """, [principal]) { ($0.text(0), $0.text(1)) }
    }

    func attach(thing: Int64, principal: String, type: String, at now: Int64) throws {
        try c.execute("""
            INSERT INTO thing_principal(thing, principal, type, attached_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(thing, principal) DO UPDATE SET type = excluded.type
            """, [thing, principal, type, now])
    }

    func detach(thing: Int64, principal: String) throws {
        try c.execute("DELETE FROM thing_principal WHERE thing = ? AND principal = ?", [thing, principal])
    }

    func principals(ofThing thing: Int64, after: String, limit: Int) throws -> [String] {
        try c.query("SELECT principal FROM thing_principal WHERE thing = ? AND principal > ? ORDER BY principal LIMIT ?",
                    [thing, after, Int64(limit)]) { $0.text(0) }
    }

    func thingNames(ofPrincipal principal: String, after: String, limit: Int) throws -> [String] {
        try c.query("""
            SELECT t.name FROM thing_principal AS p JOIN thing AS t ON t.id = p.thing
            WHERE p.principal = ? AND t.name > ? ORDER BY t.name LIMIT ?
            """, [principal, after, Int64(limit)]) { $0.text(0) }
    }
}
