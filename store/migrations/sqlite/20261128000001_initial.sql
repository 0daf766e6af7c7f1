-- The bot's own store (SQLite). Times are UTC text in one fixed-width format (YYYY-MM-DDTHH:MM:SS.ffffffZ), so
-- they compare correctly as text. JSON payloads are text.

-- Approval requests. `number` comes from AUTOINCREMENT (never reused); the human id is derived from it.
CREATE TABLE approvals (
    number             INTEGER PRIMARY KEY AUTOINCREMENT,
    id                 TEXT NOT NULL GENERATED ALWAYS AS ('A' || number) STORED UNIQUE,
    requester_person   TEXT NOT NULL,
    requester_identity TEXT NOT NULL,
    conversation       TEXT NOT NULL,
    command            TEXT NOT NULL,
    kind               TEXT NOT NULL,
    target_key         TEXT NOT NULL,
    binding            TEXT NOT NULL,
    preview            TEXT NOT NULL,
    quorum             INTEGER NOT NULL CHECK (quorum >= 1),
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    state              TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
                           ('pending', 'approved', 'executing', 'done', 'failed', 'denied', 'cancelled',
                            'expired', 'superseded')),
    state_detail       TEXT,
    decided_at         TEXT,
    updated_at         TEXT NOT NULL,
    request_message    TEXT
);
CREATE INDEX approvals_by_state ON approvals (state, number);
CREATE INDEX approvals_by_target ON approvals (target_key, state);

-- One vote per person per request: the primary key makes a second press a no-op.
CREATE TABLE approval_votes (
    approval_id  TEXT NOT NULL REFERENCES approvals (id),
    person_id    TEXT NOT NULL,
    identity     TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('approve', 'deny')),
    reason       TEXT,
    conversation TEXT NOT NULL,
    voted_at     TEXT NOT NULL,
    PRIMARY KEY (approval_id, person_id)
);

-- Long work with a claim and a lease.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    state       TEXT,
    run_at      TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    owner       TEXT,
    lease_until TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT,
    created_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX jobs_claimable ON jobs (status, run_at);

-- Platform events already handled (claim first, then act).
CREATE TABLE claimed_events (
    key        TEXT PRIMARY KEY,
    claimed_at TEXT NOT NULL
);

-- The freeze switch: a row while frozen.
CREATE TABLE freeze_state (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    frozen_by TEXT NOT NULL,
    reason    TEXT NOT NULL,
    frozen_at TEXT NOT NULL
);

-- Small values (e.g. the Matrix sync position).
CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The audit log: append-only, each row HMAC-chained to the previous one. JSON columns are kept as the exact text
-- the MAC covers.
CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    at             TEXT NOT NULL,
    actor_person   TEXT,
    actor_identity TEXT NOT NULL,
    conversation   TEXT NOT NULL,
    text           TEXT NOT NULL,
    command        TEXT,
    decision       TEXT NOT NULL,
    outcome        TEXT,
    duration_ms    INTEGER,
    approval_id    TEXT,
    detail         TEXT NOT NULL,
    prev_mac       TEXT NOT NULL,
    mac            TEXT NOT NULL
);

-- The chain head, outside the audit table: the last seq and a MAC over it, updated with every append.
CREATE TABLE audit_head (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    last_seq  INTEGER NOT NULL,
    last_mac  TEXT NOT NULL,
    head_mac  TEXT NOT NULL
);
