"""Benchmark data generator (bench.generate) and request benchmark (bench.run); see bench/README.md."""

from flask import Flask

from config import BASE_DIR

DEFAULT_DATABASE_URL = "sqlite:///" + str(BASE_DIR / "instance" / "bench.sqlite3")
RESULTS_DIR = BASE_DIR / "bench" / "results"

# Every account the generator creates shares this password (one argon2 hash, computed once).
BENCH_PASSWORD = "bench-password-2024"
BENCH_MANAGER = "bench-manager"
BENCH_TECHNICIAN = "bench-tech"


def bench_app(database_url: str) -> Flask:
    """The development app on the benchmark database, without debug mode (no template reloading) and with a
    tracking-page limit the benchmark's one address cannot reach (the page is timed, not the limiter). Its
    objects are frozen out of the collector's full pass, as wsgi.py does for gunicorn."""
    import gc

    from crm import create_app

    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url, DEBUG=False,
                     TRACKING_RATE_LIMIT="1000000 per minute")
    gc.collect()
    gc.freeze()
    return app


def database_kind(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"
