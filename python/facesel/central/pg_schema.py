"""The central store's schema, as ordered, versioned migrations.

``schema_version`` records each migration applied (version, name, time). :func:`migrate` applies
the missing ones in order, each in the same transaction as its ``schema_version`` row, under an
advisory lock so that many processes starting at once migrate exactly once. A database whose
version is newer than this facesel knows is refused rather than used.

To change the schema, append a migration; never edit one that has shipped.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type hints only: importing the schema needs no PostgreSQL client
    import psycopg

# One advisory-lock key per purpose (arbitrary 64-bit constants, shared by every facesel process).
MIGRATION_LOCK = 0x66616365_73656C01
AUDIT_LOCK = 0x66616365_73656C02

_V1_TABLES = """
CREATE TABLE authority (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    authority_id text NOT NULL,
    public_json  text NOT NULL,          -- the authority.pub file the store was created with
    store_id     text NOT NULL,          -- random id naming this store in camera audit logs
    created_at   double precision NOT NULL
);
CREATE TABLE cameras (
    camera_id     text PRIMARY KEY CHECK (length(camera_id) BETWEEN 1 AND 128),
    public_key    bytea,                 -- the camera's Ed25519 key (NULL only in stores made before v4)
    registered_at double precision NOT NULL,
    note          text NOT NULL DEFAULT ''
);
CREATE TABLE records (
    record_id       text PRIMARY KEY CHECK (record_id ~ '^[0-9a-f]{32}$'),
    camera_id       text NOT NULL REFERENCES cameras,
    epoch_id        integer NOT NULL,
    sealed_at       double precision NOT NULL,
    first_timestamp double precision,
    last_timestamp  double precision,
    quality         double precision,
    track_id        bigint,
    size            integer NOT NULL,
    sha256          text NOT NULL,
    received_at     double precision NOT NULL,
    purged_at       double precision,    -- set, and data dropped, by retention: the id stays taken
    data            bytea,
    CHECK ((data IS NULL) = (purged_at IS NOT NULL))
);
CREATE INDEX records_camera_sealed ON records (camera_id, sealed_at);
CREATE INDEX records_sealed ON records (sealed_at) WHERE purged_at IS NULL;
CREATE TABLE audit (
    seq       bigint PRIMARY KEY CHECK (seq >= 0),
    event     text NOT NULL,
    record_id text,
    line      text NOT NULL,             -- the canonical JSON entry, exactly as hashed
    hash      text NOT NULL
);
CREATE INDEX audit_record ON audit (record_id) WHERE record_id IS NOT NULL;
"""

# Defence in depth under the hash chain: the database itself refuses to rewrite history. (An
# owner can drop triggers; the chain and an externally kept head anchor still show that.)
_V2_GUARDS = """
CREATE FUNCTION facesel_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'facesel: % on table % is not allowed (append-only)', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION facesel_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION facesel_refuse_change();

CREATE FUNCTION facesel_records_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The only change a record may undergo: retention drops its ciphertext, keeping the row.
    IF NEW.data IS NULL AND NEW.purged_at IS NOT NULL AND OLD.purged_at IS NULL
       AND (NEW.record_id, NEW.camera_id, NEW.epoch_id, NEW.sealed_at, NEW.sha256, NEW.size)
           IS NOT DISTINCT FROM (OLD.record_id, OLD.camera_id, OLD.epoch_id, OLD.sealed_at, OLD.sha256, OLD.size)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'facesel: records are immutable except for retention (record %)', OLD.record_id;
END $$;
CREATE TRIGGER records_purge_only BEFORE UPDATE ON records
    FOR EACH ROW EXECUTE FUNCTION facesel_records_purge_only();
CREATE TRIGGER records_no_delete BEFORE DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION facesel_refuse_change();
"""

# Large records: ciphertext in an S3-compatible bucket, row and log entry here (facesel.central.blobs).
_V3_OBJECT_STORAGE = """
ALTER TABLE authority ADD COLUMN blob_url text, ADD COLUMN blob_endpoint text,
    ADD COLUMN blob_threshold integer CHECK (blob_threshold > 0);
ALTER TABLE records ADD COLUMN blob_key text;
ALTER TABLE records DROP CONSTRAINT records_check;
ALTER TABLE records ADD CONSTRAINT records_payload CHECK (
    CASE WHEN purged_at IS NOT NULL THEN data IS NULL ELSE (data IS NULL) <> (blob_key IS NULL) END);
CREATE OR REPLACE FUNCTION facesel_records_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.data IS NULL AND NEW.purged_at IS NOT NULL AND OLD.purged_at IS NULL
       AND (NEW.record_id, NEW.camera_id, NEW.epoch_id, NEW.sealed_at, NEW.sha256, NEW.size, NEW.blob_key)
           IS NOT DISTINCT FROM
           (OLD.record_id, OLD.camera_id, OLD.epoch_id, OLD.sealed_at, OLD.sha256, OLD.size, OLD.blob_key)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'facesel: records are immutable except for retention (record %)', OLD.record_id;
END $$;
"""

# Records are signed by their camera (record format 2): a registered key is 32 raw Ed25519 bytes,
# as in camera.pub; a camera left without a key (registered before this) can send nothing.
_V4_CAMERA_KEYS = """
ALTER TABLE cameras ADD CONSTRAINT cameras_ed25519_key CHECK (public_key IS NULL OR octet_length(public_key) = 32);
"""

# Review round 11: a record is the store's by (camera, id), not by id alone. With one namespace for
# every camera, a camera that learnt another's next record id (serve publishes it in its
# track_sealed event before sync forwards it) stored a record of its own under it first, and the
# genuine record was refused at every sync. The index on record_id keeps lookups by id (an opening
# by id, the log's joins) fast. facesel_entry_field reads a field of a log line, NULL when the line
# is no JSON object (an owner's edit must not make every query that reads the log fail; the chain
# check names the edited entry).
_V5_CAMERA_SCOPED_IDS = """
ALTER TABLE records DROP CONSTRAINT records_pkey;
ALTER TABLE records ADD CONSTRAINT records_pkey PRIMARY KEY (camera_id, record_id);
CREATE INDEX records_id ON records (record_id);
CREATE FUNCTION facesel_entry_field(line text, field text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN line::jsonb ->> field;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
"""

# Review round 11: the time a row arrived is the server's, set here whatever the inserting client
# sends: a thief holding a revoked camera's key and the store's camera credentials cannot date an
# arrival back (readers flag records received after their camera's key was revoked,
# facesel.central.arrivals). Rows of earlier versions keep the time the receiving process's clock
# gave. The purge guard now keeps received_at too.
_V6_SERVER_RECEIVE_TIME = """
CREATE FUNCTION facesel_received_now() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.received_at := extract(epoch FROM transaction_timestamp());
    RETURN NEW;
END $$;
CREATE TRIGGER records_received_now BEFORE INSERT ON records
    FOR EACH ROW EXECUTE FUNCTION facesel_received_now();
CREATE OR REPLACE FUNCTION facesel_records_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.data IS NULL AND NEW.purged_at IS NOT NULL AND OLD.purged_at IS NULL
       AND (NEW.record_id, NEW.camera_id, NEW.epoch_id, NEW.sealed_at, NEW.sha256, NEW.size, NEW.blob_key,
            NEW.received_at)
           IS NOT DISTINCT FROM
           (OLD.record_id, OLD.camera_id, OLD.epoch_id, OLD.sealed_at, OLD.sha256, OLD.size, OLD.blob_key,
            OLD.received_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'facesel: records are immutable except for retention (record %)', OLD.record_id;
END $$;
"""

# Review round 13a: the received entries indexed by camera and seal time, so that a selection's scope
# check (facesel.central.received_scope) reads its window's arrivals, not the whole log's
# (the log holds every arrival since the store began). The index is the log's own, derived from each
# line: nothing the owner can fall out of step with unseen (a dropped index makes the check slow,
# never wrong). facesel_entry_number reads a field as a float8, NULL unless it is a JSON number.
# Only entries of a genuine size (a received entry is under 1 KiB; INDEXED_RECEIVED_LINE) are
# indexed, so that no line can make an index entry too long to store.
#
# A row may now also be rewritten to agree with its record's received entry (camera, seal time,
# epoch, size, digest): 'facesel central repair-rows' rewrites a moved row from its verified signed
# header, and the guard lets only an update toward the log through (the payload and the arrival
# time kept), never away from it.
_V7_RECEIVED_INDEX = """
CREATE FUNCTION facesel_entry_number(line text, field text) RETURNS double precision LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    value jsonb;
BEGIN
    value := line::jsonb -> field;
    IF jsonb_typeof(value) = 'number' THEN
        RETURN value::double precision;
    END IF;
    RETURN NULL;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;
CREATE INDEX audit_received_camera_sealed ON audit
    (facesel_entry_field(line, 'camera_id'), facesel_entry_number(line, 'sealed_at'))
    WHERE event = 'received' AND octet_length(line) <= 2048;
CREATE INDEX audit_received_sealed ON audit (facesel_entry_number(line, 'sealed_at'))
    WHERE event = 'received' AND octet_length(line) <= 2048;
CREATE OR REPLACE FUNCTION facesel_records_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.data IS NULL AND NEW.purged_at IS NOT NULL AND OLD.purged_at IS NULL
       AND (NEW.record_id, NEW.camera_id, NEW.epoch_id, NEW.sealed_at, NEW.sha256, NEW.size, NEW.blob_key,
            NEW.received_at)
           IS NOT DISTINCT FROM
           (OLD.record_id, OLD.camera_id, OLD.epoch_id, OLD.sealed_at, OLD.sha256, OLD.size, OLD.blob_key,
            OLD.received_at)
    THEN
        RETURN NEW;
    END IF;
    -- A repair: a live row, its payload and arrival time kept, made to agree with its received entry.
    IF NEW.purged_at IS NULL AND OLD.purged_at IS NULL AND NEW.record_id = OLD.record_id
       AND (NEW.data, NEW.blob_key, NEW.received_at) IS NOT DISTINCT FROM (OLD.data, OLD.blob_key, OLD.received_at)
       AND EXISTS (SELECT 1 FROM audit a WHERE a.event = 'received' AND a.record_id = NEW.record_id
                   AND octet_length(a.line) <= 2048
                   AND facesel_entry_field(a.line, 'camera_id') = NEW.camera_id
                   AND facesel_entry_number(a.line, 'sealed_at') = NEW.sealed_at
                   AND facesel_entry_number(a.line, 'epoch_id') = NEW.epoch_id
                   AND facesel_entry_number(a.line, 'size') = NEW.size
                   AND facesel_entry_field(a.line, 'sha256') = NEW.sha256)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'facesel: records are immutable except for retention and a repair to their log (record %)',
        OLD.record_id;
END $$;
ANALYZE audit;
"""

# (version, name, SQL): applied in this order.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "records, cameras, authority, audit log", _V1_TABLES),
    (2, "append-only audit log and immutable records", _V2_GUARDS),
    (3, "large records in object storage", _V3_OBJECT_STORAGE),
    (4, "camera signing keys are Ed25519", _V4_CAMERA_KEYS),
    (5, "records keyed by camera and id", _V5_CAMERA_SCOPED_IDS),
    (6, "a record's arrival time from the server's clock", _V6_SERVER_RECEIVE_TIME),
    (7, "received entries indexed by camera and seal time; rows repairable to their log", _V7_RECEIVED_INDEX),
)

#: Longest ``received`` line the index of migration 7 holds (a genuine one is under 1 KiB); the
#: queries that read received entries by camera or seal time use this bound, so that they use it.
INDEXED_RECEIVED_LINE = 2048

LATEST = MIGRATIONS[-1][0]


def applied_versions(conn: psycopg.Connection) -> list[int]:
    """Versions recorded in ``schema_version`` (empty for a fresh database)."""
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()[0]
    if not exists:
        return []
    return [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]


def migrate(conn: psycopg.Connection) -> list[int]:
    """Bring the schema to :data:`LATEST`; return the versions applied now (empty: already there).

    Raises
    ------
    RuntimeError
        When the database has a migration this facesel does not know (it is newer).
    """
    applied_now = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "
                     "name text NOT NULL, applied_at double precision NOT NULL)")
        done = applied_versions(conn)
        unknown = sorted(set(done) - {v for v, _, _ in MIGRATIONS})
        if unknown:
            raise RuntimeError(f"the central store has schema versions {unknown} that this facesel does not know "
                               f"(it knows up to {LATEST}); upgrade facesel")
        for version, name, sql in MIGRATIONS:
            if version in done:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (%s, %s, %s)",
                         (version, name, time.time()))
            applied_now.append(version)
    return applied_now
