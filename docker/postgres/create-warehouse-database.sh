#!/bin/sh
# Runs once, when the postgres volume is first initialised: the warehouse (raw_*, staging, marts,
# finance_state, outbound) gets its own database beside Dagster's, owned by the same role.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v warehouse="${OMNIRECON_PG_DBNAME:-omnirecon}" <<'SQL'
SELECT format('CREATE DATABASE %I', :'warehouse')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'warehouse')\gexec
SQL
