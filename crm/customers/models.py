from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.database import UTCDateTime, utcnow
from crm.extensions import db


class Customer(db.Model):
    __tablename__ = "customers_customer"
    __table_args__ = (
        # Substring search by any fragment of the phone or the name. PostgreSQL answers
        # LIKE '%...%' from a trigram index; SQLite from the FTS5 table of migration 0014 (docs/search.md).
        Index(
            "ix_customers_customer_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    birthday: Mapped[date | None] = mapped_column(Date)
    # month * 100 + day of the birthday, kept by the service: the birthday job's indexed "who is due".
    birthday_mmdd: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    service_consent: Mapped[bool] = mapped_column(Boolean, default=True)
    service_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str] = mapped_column(Text, default="")
    # How the customer wants to hear from the shop: auto (the first usable of Telegram, e-mail, SMS),
    # or one channel, tried first. Language of the messages (None: the shop's default).
    preferred_channel: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto")
    language: Mapped[str | None] = mapped_column(String(10))
    # Set when the customer sends the bot "/start <code>" from the deep link printed on their receipt.
    telegram_chat_id: Mapped[str | None] = mapped_column(String(32))
    # Lower-cased name, e-mail and phone digits (international and national), kept by the service.
    search_text: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Set when a manager erased the customer's personal data (crm.privacy.erase): their links stop working.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Customer {self.id} {self.phone}>"


class TelegramCode(db.Model):
    """A one-time code of the Telegram deep link (t.me/<bot>?start=<code>) printed on a receipt or shown to
    the desk (crm.customers.telegram has the rules).

    active: not used yet, until expires_at. linked: a chat sent it and became the customer's chat.
    awaiting_confirmation: a chat sent it while another chat was linked; the linked chat must answer
    "/confirm <confirm_code>" before confirm_until. confirmed: it did, and the new chat is linked.
    revoked: replaced (another code linked, the desk unlinked the chat or issued a new code)."""

    __tablename__ = "customers_telegram_code"
    __table_args__ = (
        CheckConstraint("state IN ('active', 'linked', 'awaiting_confirmation', 'confirmed', 'revoked')",
                        name="state_known"),
        Index("ix_customers_telegram_code_customer_state", "customer_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(24), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chat_id: Mapped[str | None] = mapped_column(String(32))  # the chat that sent the code
    confirm_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    confirm_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConsentChange(db.Model):
    """One change of a customer's consent (crm.customers.consent writes them, in the transaction of the change):
    what (``service``, ``marketing``; ``marketing:email`` when a channel's own consent is added), given or taken
    back, how (``desk``, ``unsubscribe_link``, ``telegram``, ``api``, ``erasure``), by which staff member (None:
    the customer themselves, or the API) and when. Never updated: the newest row of a consent is its state."""

    __tablename__ = "customers_consent_change"
    __table_args__ = (
        CheckConstraint("source IN ('desk', 'unsubscribe_link', 'telegram', 'api', 'erasure')", name="source_known"),
        Index("ix_customers_consent_change_customer_id_id", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"))
    consent: Mapped[str] = mapped_column(String(40))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(20))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
