-- PostgreSQL version of ../0020_multiproc.sql: the same tables, columns and meaning.
-- Which process claimed a reminder (issue 16): its token in familybot/db/peers.py. Another
-- process sharing the database leaves the row alone while that process is alive, and takes
-- it over once it is gone, so each reminder is sent by one process only.
ALTER TABLE reminder_ledger ADD COLUMN claimed_by BIGINT;
