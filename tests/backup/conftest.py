"""Backups are of SQLite files, so these tests run on apps of their own, each on its own migrated SQLite file
(a copy of one migrated once), whatever TEST_DATABASE_URL says: the shared test database is never touched."""

import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db


def file_app(path, **settings):
    return create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", **settings)


def postgres_app(**settings):
    """An app configured for a PostgreSQL server that does not exist: for what needs only the URL."""
    return create_app("test", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://shop:s3cret-pw@db.invalid:5433/crm",
                      **settings)


def close(app) -> None:
    """Let go of every connection the app holds, as a stopped process would."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("backup-template") / "migrated.sqlite3"
    app = file_app(path)
    with app.app_context():
        upgrade()
    close(app)
    return path


@pytest.fixture
def shop(tmp_path, migrated_file):
    """An app on its own migrated SQLite file (shop.config["SQLALCHEMY_DATABASE_URI"]), in tmp_path/live/."""
    (tmp_path / "live").mkdir()
    database = tmp_path / "live" / "crm.sqlite3"
    shutil.copyfile(migrated_file, database)
    app = file_app(database)
    yield app
    close(app)


@pytest.fixture
def database(shop):
    with shop.app_context():
        return Path(db.engine.url.database)
