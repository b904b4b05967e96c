"""PostgreSQL is backed up with its own tools, pg_dump (custom format, -Fc) and pg_restore: this module only
writes out the exact commands for the configured DATABASE_URL. The password is never printed: pg_dump reads it
from PGPASSWORD or ~/.pgpass."""

import shlex

from sqlalchemy.engine import URL


def _connection_options(url: URL) -> list[str]:
    options = []
    host = url.host or url.query.get("host")  # ?host=/var/run/postgresql: a Unix socket folder
    if host:
        options += ["-h", host if isinstance(host, str) else host[0]]
    if url.port:
        options += ["-p", str(url.port)]
    if url.username:
        options += ["-U", url.username]
    return options


def dump_command(url: URL, path: str) -> str:
    return shlex.join(["pg_dump", "-Fc", "--no-owner", *_connection_options(url), "-f", path, url.database or ""])


def restore_command(url: URL, path: str) -> str:
    return shlex.join(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                       *_connection_options(url), "-d", url.database or "", path])


def is_postgres(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"
