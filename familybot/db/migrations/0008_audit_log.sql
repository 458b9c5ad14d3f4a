-- Audit log: one row per facilitator or admin action (commands, buttons, menus), kept as
-- the server's record. Ids only: never names, reasons or message text.
-- Append-only, enforced here rather than trusted to the code: no row is ever changed, and
-- rows are deleted only for a server listed in audit_purge_allowed (the retention purge
-- inserts the server, deletes its rows, then removes it again).

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    actor_id    INTEGER NOT NULL,
    action      TEXT NOT NULL,                   -- e.g. 'mod.ban', 'setup.alerts', 'button.join-approve'
    target_id   INTEGER,                         -- a user, role, channel, group, session... id
    target_kind TEXT CHECK (target_kind IS NULL OR target_kind IN
                    ('user', 'role', 'channel', 'group', 'session', 'resource', 'case')),
    result      TEXT NOT NULL CHECK (result IN ('ok', 'refused', 'failed')),
    created_at  INTEGER NOT NULL,
    CHECK ((target_id IS NULL) = (target_kind IS NULL))
);
CREATE INDEX audit_log_recent ON audit_log (guild_id, id);
CREATE INDEX audit_log_actor ON audit_log (guild_id, actor_id, id);
CREATE INDEX audit_log_target ON audit_log (target_id) WHERE target_id IS NOT NULL;

CREATE TABLE audit_purge_allowed (
    guild_id INTEGER PRIMARY KEY
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.guild_id NOT IN (SELECT guild_id FROM audit_purge_allowed)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
