"""Numbers people read aloud and print: repair orders (R-00042), receipts (S-...), refunds (RF-...).
Each series is one counter row, so numbers never repeat, even when two desks draw one at the same moment."""

from sqlalchemy import Integer, String, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from crm.extensions import db


class NumberCounter(db.Model):
    """One row per series; incremented with UPDATE ... RETURNING so numbers never repeat."""

    __tablename__ = "orders_number_counter"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


def next_number(session: Session, prefix: str, series: str) -> str:
    """The next number of the series. The UPDATE takes a row lock until commit, so two desks
    can never draw the same number; a rolled-back order rolls the counter back with it."""
    for _attempt in range(2):
        value = session.scalar(
            update(NumberCounter).where(NumberCounter.name == series)
            .values(value=NumberCounter.value + 1).returning(NumberCounter.value)
        )
        if value is not None:
            return f"{prefix}{value:05d}"
        try:
            with session.begin_nested():
                session.execute(insert(NumberCounter).values(name=series, value=0))
        except IntegrityError:
            pass  # another transaction created the series first; update it now
    raise RuntimeError(f"number counter {series!r} unavailable")
