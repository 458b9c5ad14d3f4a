-- PostgreSQL version of ../0004_ledger_first_attempt.sql: the same tables, columns and meaning.
-- When a reminder was first attempted: a message created by any attempt is newer than this,
-- so recovery after an ambiguous failure looks for it from here, not from the last attempt.
ALTER TABLE reminder_ledger ADD COLUMN first_attempt_at BIGINT;
UPDATE reminder_ledger SET first_attempt_at = attempt_at WHERE attempt_at IS NOT NULL;
