-- Incidents (PostgreSQL). The incident itself is one JSONB document (`doc`) guarded by a version number: every
-- change is a read, a change in the engine, and a conditional write `WHERE version = $n`, so two processes never
-- lose each other's changes. `channel`, `thread` and `open` are copies kept for lookups.
CREATE TABLE incidents (
    number     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version    BIGINT NOT NULL DEFAULT 1,
    channel    TEXT NOT NULL,
    thread     TEXT,
    open       BOOLEAN NOT NULL DEFAULT TRUE,
    doc        JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX incidents_by_thread ON incidents (channel, thread);
CREATE INDEX incidents_open ON incidents (open, number);

-- The timeline of an incident: append-only, each entry citing the audit row it comes from (seq and MAC).
CREATE TABLE incident_timeline (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident  BIGINT NOT NULL REFERENCES incidents (number),
    at        TIMESTAMPTZ NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    text      TEXT NOT NULL,
    audit_seq BIGINT,
    audit_mac TEXT,
    detail    JSONB NOT NULL
);
CREATE INDEX incident_timeline_by_incident ON incident_timeline (incident, id);
