-- jobdeck schema 7: operator control. `paused_kinds` holds the kinds no worker claims (the claim
-- skips them with one lookup in this small table); `cancels` holds the cancel requests of
-- running jobs, which their workers poll for and lease recovery obeys; `actions` is the
-- operator trail (who did what, on what, why), append-only. Each action keeps the newest event
-- cursor when it was written (`after_cursor`), so the trail reads interleaved with the events.

CREATE TABLE paused_kinds (
    kind   TEXT PRIMARY KEY,
    reason TEXT,
    actor  TEXT NOT NULL,
    at     REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE cancels (
    job_id  TEXT PRIMARY KEY,
    attempt INTEGER NOT NULL,
    reason  TEXT,
    actor   TEXT NOT NULL,
    at      REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE actions (
    id           INTEGER PRIMARY KEY,
    at           REAL NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    reason       TEXT,
    after_cursor INTEGER NOT NULL
);
CREATE INDEX actions_after_cursor ON actions (after_cursor, id);
