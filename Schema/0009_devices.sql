-- Devices: the database's certificate authority, X.509 certificates, thing principals,
-- IoT policies with their versions, and policy attachments. Times are epoch milliseconds.
-- The CA's private key is not here: it is a file beside the database (<db>.ca/ca-key.pem,
-- mode 0600), so that a copy of the database handed around carries no signing key.

-- The database's one certificate authority (made on first use).
CREATE TABLE certificate_authority (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    certificate_id TEXT NOT NULL,     -- lowercase hex SHA-256 of the DER
    pem TEXT NOT NULL,
    key_algorithm TEXT NOT NULL,      -- EC_prime256v1 | RSA_2048
    created_at INTEGER NOT NULL
) STRICT;

-- Certificates: issued by the CA (create-keys-and-certificate, create-certificate-from-csr)
-- or registered without a CA. certificate_id is AWS's: the hex SHA-256 of the DER.
CREATE TABLE certificate (
    id INTEGER PRIMARY KEY,
    certificate_id TEXT NOT NULL UNIQUE,
    pem TEXT NOT NULL,
    status TEXT NOT NULL,
    ca_certificate_id TEXT,
    mode TEXT NOT NULL DEFAULT 'DEFAULT',
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    generation_id TEXT NOT NULL,
    customer_version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
) STRICT;
CREATE INDEX certificate_created_at ON certificate(created_at, id);

-- Principals (certificate ARNs, Cognito identity ids) attached to things.
CREATE TABLE thing_principal (
    thing INTEGER NOT NULL REFERENCES thing(id) ON DELETE CASCADE,
    principal TEXT NOT NULL,
    type TEXT NOT NULL DEFAULT 'NON_EXCLUSIVE_THING',
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (thing, principal)
) STRICT, WITHOUT ROWID;
CREATE INDEX thing_principal_principal ON thing_principal(principal, thing);

CREATE TABLE policy (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    default_version INTEGER NOT NULL,
    next_version INTEGER NOT NULL,
    generation_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    modified_at INTEGER NOT NULL
) STRICT;

CREATE TABLE policy_version (
    policy INTEGER NOT NULL REFERENCES policy(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (policy, version)
) STRICT, WITHOUT ROWID;

-- Policies attached to targets (certificate ARNs).
CREATE TABLE policy_target (
    policy INTEGER NOT NULL REFERENCES policy(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (policy, target)
) STRICT, WITHOUT ROWID;
CREATE INDEX policy_target_target ON policy_target(target, policy);
