-- IndexPilot 0.1.0: install script. Released scripts are never edited; changes go in upgrade scripts.
-- Assembled by the Makefile from sql/parts/*.sql in name order: each part holds one concern, its objects in
-- dependency order, each with its privileges and comment beside it. This part: the schema and the
-- conventions every later part follows.

\echo Use "CREATE EXTENSION indexpilot" to load this file. \quit

-- Conventions of the catalog layer (lineage, genome, expression profiles, DDL capture, query statistics):
-- plain SQL and PL/pgSQL: every change is one transaction with its mutation_log rows, and the code can be
-- read where it runs. Functions users call are indexpilot_*, in the extension's schema;
-- everything else is in schema indexpilot. Every function pins search_path and schema-qualifies names.
-- Control functions are revoked from PUBLIC; the genome and expression ones check that the caller owns
-- the table, then run their body as the extension's owner (see indexpilot_register); reading is
-- granted to pg_monitor. Every change to one managed table first locks its genome_tables row, so
-- concurrent changes to one table are serialized and the lineage stays a chain.
-- Error codes: NULL argument 22004; unknown table 42P01 (from regclass input); unknown column 42703;
-- table not managed 55000; already managed 42710; not a table 42809; temporary or system table 0A000;
-- the caller does not own the table 42501;
-- a bad or unknown tenant, a core field given where an optional one is needed, an empty list 22023.

-- Tables, views and internal functions live in schema indexpilot; the indexpilot_* functions users call
-- live in the schema the extension is created in (public by default).
CREATE SCHEMA indexpilot;
COMMENT ON SCHEMA indexpilot IS 'IndexPilot metadata and internal functions';
-- Members of pg_monitor may read IndexPilot's metadata; nothing in the schema is executable by PUBLIC.
GRANT USAGE ON SCHEMA indexpilot TO pg_monitor;
-- Members of pg_read_all_stats may read the statement texts captured now (indexpilot.live_queries).
GRANT USAGE ON SCHEMA indexpilot TO pg_read_all_stats;
