-- jobdeck schema 4: the event log without AUTOINCREMENT. AUTOINCREMENT kept the next cursor in
-- sqlite_sequence, a row every event insert rewrote, so every write transaction committed one
-- more page. A plain INTEGER PRIMARY KEY takes the largest cursor plus one; nothing ever deletes
-- an event, so a cursor is still never reused and still grows in commit order (one writer at a
-- time).

CREATE TABLE events_log (
    cursor      INTEGER PRIMARY KEY,
    job_id      TEXT NOT NULL REFERENCES jobs (id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    reason_code TEXT,
    at          REAL NOT NULL,
    step        TEXT                           -- a compensation's step; NULL for transitions
);
INSERT INTO events_log (cursor, job_id, from_status, to_status, attempt, reason_code, at, step)
SELECT cursor, job_id, from_status, to_status, attempt, reason_code, at, step FROM events;
DROP TABLE events;
ALTER TABLE events_log RENAME TO events;
