"""Backups of the shop's database: a consistent copy of a live SQLite file (sqlite.py), a checked restore, the
pg_dump / pg_restore commands for PostgreSQL (postgres.py) and the daily backup job with its retention (jobs.py).
The CLI commands (`crm backup`, `crm restore`) are in crm/cli.py. No blueprint: nothing here is a web page."""
