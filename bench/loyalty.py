"""Loyalty data for the benchmark: members (40% of customers) with a tier and an open lot of points,
and the tier activity of every paid sale. Idempotent: nothing happens if members already exist."""

import random
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, text

from crm.loyalty.models import Account, LedgerEntry, Tier

BATCH = 5000


def generate_loyalty(engine, rng: random.Random, *, now: datetime, tick=print) -> bool:
    with engine.begin() as conn:
        if conn.scalar(select(func.count()).select_from(Account.__table__)):
            return False
        tiers = [row.id for row in conn.execute(select(Tier.__table__.c.id).order_by(Tier.__table__.c.rank))]
        customer_ids = [cid for (cid,) in conn.execute(text("SELECT id FROM customers_customer WHERE id % 5 < 2"))]
        accounts, entries = [], []
        for cid in customer_ids:
            points = rng.randint(20, 800)
            tier = tiers[0] if rng.random() < 0.8 or len(tiers) < 3 else rng.choice(tiers[1:])
            accounts.append({"customer_id": cid, "balance": points, "tier_id": tier, "tier_since": now,
                             "referral_code": f"B{cid:07d}", "enrolled_at": now - timedelta(days=rng.randint(30, 700)),
                             "first_purchase_at": None, "referred_by_id": None, "referral_rewarded_at": None})
            entries.append({"customer_id": cid, "kind": "earn", "points": points, "remaining": points,
                            "expires_at": now + timedelta(days=rng.randint(1, 330)), "balance_after": points,
                            "reason": "Bench opening balance", "reference": "", "idempotency_key": f"bench:{cid}",
                            "unrecovered": 0, "author_id": None, "created_at": now - timedelta(days=30)})
        for rows, table in ((accounts, Account.__table__), (entries, LedgerEntry.__table__)):
            for i in range(0, len(rows), BATCH):
                conn.execute(insert(table), rows[i:i + BATCH])
        conn.execute(text(
            "INSERT INTO loyalty_activity (customer_id, at, spend_minor, repairs, reference) "
            "SELECT customer_id, paid_at, total_minor, CASE WHEN repair_order_id IS NULL THEN 0 ELSE 1 END, "
            "'sale:' || id FROM orders_sale WHERE status = 'paid' AND customer_id IS NOT NULL"))
    tick(f"loyalty: {len(accounts):,} members with an open lot each, activity of every paid sale")
    return True
