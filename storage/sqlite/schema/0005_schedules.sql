-- jobdeck schema 5: periodic schedules. One row per schedule holds what workers last declared
-- for it, the instant of the newest tick made (`last_tick`, the baseline the next tick is
-- counted from) and whether an operator paused it. A worker makes a tick's job only if it moves
-- `last_tick` forward from the value it read (compare-and-set), and `schedule_runs` keeps one
-- row per tick, keyed by (name, tick): two workers can never make the same tick twice.

CREATE TABLE schedules (
    name          TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    cron          TEXT NOT NULL,
    tz            TEXT NOT NULL,
    last_tick     REAL NOT NULL,
    paused        INTEGER NOT NULL DEFAULT 0,
    paused_reason TEXT,
    changed_at    REAL NOT NULL
);

CREATE TABLE schedule_runs (
    name   TEXT NOT NULL REFERENCES schedules (name),
    tick   REAL NOT NULL,
    job_id TEXT NOT NULL REFERENCES jobs (id),
    PRIMARY KEY (name, tick)
);
