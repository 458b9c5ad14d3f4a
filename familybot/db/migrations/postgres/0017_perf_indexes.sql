-- PostgreSQL version of ../0017_perf_indexes.sql: the same tables, columns and meaning.
-- Indexes for the columns /my data (export) and /my forget filter on by person, so both cost
-- what that person's rows cost, not the size of the database (issue 15). Before these, each
-- of these statements read its whole table.

CREATE INDEX reminder_ledger_target ON reminder_ledger (target);
CREATE INDEX attendance_marked_by ON attendance (marked_by);
CREATE INDEX occurrence_overrides_created_by ON occurrence_overrides (created_by);
CREATE INDEX session_series_created_by ON session_series (created_by);
CREATE INDEX groups_created_by ON groups (created_by);
CREATE INDEX group_facilitators_added_by ON group_facilitators (added_by);
CREATE INDEX resources_vetted_by ON resources (vetted_by);
CREATE INDEX mod_cases_target_any ON mod_cases (target_id);
CREATE INDEX mod_cases_actor ON mod_cases (actor_id);
CREATE INDEX audit_log_actor_any ON audit_log (actor_id);
CREATE INDEX scheduled_unbans_user ON scheduled_unbans (user_id);
