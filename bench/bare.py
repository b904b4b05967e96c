"""The yardstick of bench.throughput: a bare Flask app serving one indexed lookup (a customer's name by primary
key) from the benchmark database, through a SQLAlchemy connection pool. BENCH_DATABASE_URL names the database.

    gunicorn -w 4 bench.bare:app"""

import os
import random

from flask import Flask
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["BENCH_DATABASE_URL"], pool_pre_ping=False)
with engine.connect() as connection:
    TOP = connection.execute(text("SELECT max(id) FROM customers_customer")).scalar() or 1

app = Flask(__name__)


@app.get("/")
def lookup():
    with engine.connect() as connection:
        name = connection.execute(text("SELECT name FROM customers_customer WHERE id = :id"),
                                  {"id": random.randint(1, TOP)}).scalar()
    return name or ""
