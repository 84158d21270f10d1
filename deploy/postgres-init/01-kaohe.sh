#!/bin/bash
# Runs once, when the postgres container initialises an empty data volume
# (docker-entrypoint-initdb.d). Creates the application role and database:
#   role kaohe (LOGIN, not superuser), password = $KAOHE_DB_PASSWORD
#   database kaohe, owned by kaohe (event store, read models, accounts)
# Temporal's own databases (temporal, temporal_visibility) are created by temporalio/auto-setup.
#
# Changing KAOHE_DB_PASSWORD later does NOT re-run this script; see deploy/README.md.
set -euo pipefail

: "${KAOHE_DB_PASSWORD:?KAOHE_DB_PASSWORD must be set for the postgres service}"

# The password goes through a psql variable (:'pw' quotes it as a literal), never through the
# shell into SQL text, and never appears on a command line.
export KAOHE_DB_PASSWORD
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" <<'SQL'
\getenv pw KAOHE_DB_PASSWORD
CREATE ROLE kaohe LOGIN PASSWORD :'pw';
CREATE DATABASE kaohe OWNER kaohe ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE kaohe FROM PUBLIC;
SQL
