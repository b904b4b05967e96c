"""The loyalty module: program settings, tiers, the points ledger, coupons, referral, reports.

Empty for now: the ledger and checkout integration arrive with the loyalty issue. It depends on
customers only; orders call into it at checkout (see docs/architecture.md)."""
