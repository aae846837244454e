-- jobdeck schema 2 (PostgreSQL): periodic schedules. One row per schedule holds what workers
-- last declared for it, the instant of the newest tick made (`last_tick`, the baseline the next
-- tick is counted from) and whether an operator paused it. A worker makes a tick's job only if
-- it moves `last_tick` forward from the value it read (compare-and-set), and `schedule_runs`
-- keeps one row per tick, keyed by (name, tick): two workers can never make the same tick twice.

CREATE TABLE schedules (
    name          text COLLATE "C" PRIMARY KEY,
    kind          text COLLATE "C" NOT NULL,
    cron          text NOT NULL,
    tz            text NOT NULL,
    last_tick     double precision NOT NULL,
    paused        boolean NOT NULL DEFAULT false,
    paused_reason text,
    changed_at    double precision NOT NULL
);

CREATE TABLE schedule_runs (
    name   text COLLATE "C" NOT NULL REFERENCES schedules (name),
    tick   double precision NOT NULL,
    job_id text COLLATE "C" NOT NULL REFERENCES jobs (id),
    PRIMARY KEY (name, tick)
);
