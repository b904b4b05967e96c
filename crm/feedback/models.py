from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import StaffUser
from crm.database import UTCDateTime, utcnow
from crm.extensions import db

LOW_RATINGS = (1, 2)  # a rating the manager follows up
COMMENT_MAX = 2000  # characters of the customer's comment
NOTE_MAX = 2000  # characters of the manager's follow-up note


class FollowUp:
    NONE = "none"  # a rating of 3 or more: nothing to follow up
    OPEN = "open"  # a low rating no one has dealt with yet
    DONE = "done"


class Feedback(db.Model):
    """The customer's rating of one repair (one per order), and the manager's follow-up of a low one."""

    __tablename__ = "feedback_feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_in_range"),
        CheckConstraint("follow_up IN ('none', 'open', 'done')", name="follow_up_known"),
        Index("ix_feedback_feedback_created_at", "created_at"),
        Index("ix_feedback_feedback_follow_up", "follow_up", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_repair_order.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")  # plain text, escaped wherever it is shown
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # the first rating
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    follow_up: Mapped[str] = mapped_column(String(10), default=FollowUp.NONE)
    follow_up_note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    followed_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    followed_up_by: Mapped[StaffUser | None] = relationship(lazy="raise")

    @property
    def is_low(self) -> bool:
        return self.rating in LOW_RATINGS
