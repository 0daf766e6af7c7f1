-- The bot's own store (PostgreSQL). Times are TIMESTAMPTZ; flexible payloads JSONB, except in the audit log,
-- which keeps the exact JSON text its MACs cover.

-- Approval requests. `number` comes from a sequence; the human id is derived from it.
CREATE TABLE approvals (
    number             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id                 TEXT NOT NULL GENERATED ALWAYS AS ('A' || number::text) STORED UNIQUE,
    requester_person   TEXT NOT NULL,
    requester_identity TEXT NOT NULL,
    conversation       JSONB NOT NULL,
    command            TEXT NOT NULL,
    kind               TEXT NOT NULL,
    target_key         TEXT NOT NULL,
    binding            JSONB NOT NULL,
    preview            JSONB NOT NULL,
    quorum             INTEGER NOT NULL CHECK (quorum >= 1),
    created_at         TIMESTAMPTZ NOT NULL,
    expires_at         TIMESTAMPTZ NOT NULL,
    state              TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
                           ('pending', 'approved', 'executing', 'done', 'failed', 'denied', 'cancelled',
                            'expired', 'superseded')),
    state_detail       TEXT,
    decided_at         TIMESTAMPTZ,
    updated_at         TIMESTAMPTZ NOT NULL,
    request_message    JSONB
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
    conversation JSONB NOT NULL,
    voted_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (approval_id, person_id)
);

-- Long work with a claim and a lease.
CREATE TABLE jobs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     JSONB NOT NULL,
    state       JSONB,
    run_at      TIMESTAMPTZ NOT NULL,
    status      TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    owner       TEXT,
    lease_until TIMESTAMPTZ,
    attempts    INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX jobs_claimable ON jobs (status, run_at);

-- Platform events already handled (claim first, then act).
CREATE TABLE claimed_events (
    key        TEXT PRIMARY KEY,
    claimed_at TIMESTAMPTZ NOT NULL
);

-- The freeze switch: a row while frozen.
CREATE TABLE freeze_state (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    frozen_by TEXT NOT NULL,
    reason    TEXT NOT NULL,
    frozen_at TIMESTAMPTZ NOT NULL
);

-- Small values (e.g. the Matrix sync position).
CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The audit log: append-only, each row HMAC-chained to the previous one.
CREATE TABLE audit_log (
    seq            BIGINT PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    actor_person   TEXT,
    actor_identity TEXT NOT NULL,
    conversation   TEXT NOT NULL,
    text           TEXT NOT NULL,
    command        TEXT,
    decision       TEXT NOT NULL,
    outcome        TEXT,
    duration_ms    BIGINT,
    approval_id    TEXT,
    detail         TEXT NOT NULL,
    prev_mac       TEXT NOT NULL,
    mac            TEXT NOT NULL
);

-- The chain head, outside the audit table: the last seq and a MAC over it, updated with every append.
CREATE TABLE audit_head (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    last_seq  BIGINT NOT NULL,
    last_mac  TEXT NOT NULL,
    head_mac  TEXT NOT NULL
);
