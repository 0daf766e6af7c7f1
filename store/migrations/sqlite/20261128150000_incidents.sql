-- Incidents (SQLite). The incident itself is one JSON document (`doc`) guarded by a version number: every change
-- is a read, a change in the engine, and a conditional write `WHERE version = ?`, so two processes never lose
-- each other's changes. `channel`, `thread` and `open` are copies kept for lookups.
CREATE TABLE incidents (
    number     INTEGER PRIMARY KEY AUTOINCREMENT,
    version    INTEGER NOT NULL DEFAULT 1,
    channel    TEXT NOT NULL,
    thread     TEXT,
    open       INTEGER NOT NULL DEFAULT 1,
    doc        TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX incidents_by_thread ON incidents (channel, thread);
CREATE INDEX incidents_open ON incidents (open, number);

-- The timeline of an incident: append-only, each entry citing the audit row it comes from (seq and MAC).
CREATE TABLE incident_timeline (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    incident  INTEGER NOT NULL REFERENCES incidents (number),
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    text      TEXT NOT NULL,
    audit_seq INTEGER,
    audit_mac TEXT,
    detail    TEXT NOT NULL
);
CREATE INDEX incident_timeline_by_incident ON incident_timeline (incident, id);
