-- jobdeck schema 4 (PostgreSQL): operator control, as SQLite's schema 7. `paused_kinds` holds
-- the kinds no worker claims (the claim skips them with one lookup in this small table);
-- `cancels` holds the cancel requests of running jobs (a NOTIFY on `jobdeck_cancel` tells the
-- workers at once; lease recovery obeys a request whose worker died); `actions` is the operator
-- trail, append-only, each row keeping the newest event cursor when it was written.

CREATE TABLE paused_kinds (
    kind   text COLLATE "C" PRIMARY KEY,
    reason text,
    actor  text NOT NULL,
    at     double precision NOT NULL
);

CREATE TABLE cancels (
    job_id  text COLLATE "C" PRIMARY KEY,
    attempt integer NOT NULL,
    reason  text,
    actor   text NOT NULL,
    at      double precision NOT NULL
);

CREATE TABLE actions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           double precision NOT NULL,
    actor        text NOT NULL,
    action       text NOT NULL,
    target       text NOT NULL,
    reason       text,
    after_cursor bigint NOT NULL
);
CREATE INDEX actions_after_cursor ON actions (after_cursor, id);
