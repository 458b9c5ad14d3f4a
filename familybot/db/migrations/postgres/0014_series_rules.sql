-- PostgreSQL version of ../0014_series_rules.sql: the same tables, columns and meaning.
-- Series that end, monthly series with an explicit week, and edits of a series.
--
-- until_local: naive local wall time in the series' zone; an occurrence belongs to the
--   series iff its nominal local start is <= until_local (inclusive). NULL: no end.
-- monthly_week: 1..4 for "the nth <weekday>", -1 for "the last <weekday>". NULL keeps the
--   old rule: derived from the first date (a 5th weekday meaning the last).
-- previous_series_id: `/session edit` ends a series at the edit and carries on with a new
--   series from the next occurrence; this links the new series to the one it continues.
ALTER TABLE session_series ADD COLUMN until_local TEXT;
ALTER TABLE session_series ADD COLUMN monthly_week BIGINT
    CHECK (monthly_week IS NULL OR monthly_week IN (1, 2, 3, 4, -1));
ALTER TABLE session_series ADD COLUMN previous_series_id BIGINT REFERENCES session_series (id);
CREATE INDEX session_series_previous ON session_series (previous_series_id);

-- Which occurrence of an edited series became which occurrence of its continuation, so a
-- Going/Maybe button on a reminder sent before the edit still answers the right session.
CREATE TABLE occurrence_links (
    old_series_id BIGINT NOT NULL REFERENCES session_series (id) ON DELETE CASCADE,
    old_key       TEXT NOT NULL,
    new_series_id BIGINT NOT NULL REFERENCES session_series (id) ON DELETE CASCADE,
    new_key       TEXT NOT NULL,
    PRIMARY KEY (old_series_id, old_key)
);

-- A mirrored event that repeats on Discord's side (one event for a whole series).
ALTER TABLE scheduled_event_mirror ADD COLUMN recurring BIGINT NOT NULL DEFAULT 0;
