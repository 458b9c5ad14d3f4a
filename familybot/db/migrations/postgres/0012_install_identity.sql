-- PostgreSQL version of ../0012_install_identity.sql: the same tables, columns and meaning.
-- One random id per install (per database), made once here. Calendar UIDs carry it so two
-- installs' "series 1" never overwrite each other in one calendar app. A backup, restore or
-- copy keeps it: it is still the same install.
CREATE TABLE install_identity (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    install_id TEXT NOT NULL
);
INSERT INTO install_identity (id, install_id) VALUES (1, substr(encode(sha256(convert_to(gen_random_uuid()::text || clock_timestamp()::text, 'UTF8')), 'hex'), 1, 24));
