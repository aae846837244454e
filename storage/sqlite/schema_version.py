"""The schema version this jobdeck writes, as a constant for code that must not read the
migration files to learn it (`jobdeck status`). A test checks it against the files."""

LATEST = 11
