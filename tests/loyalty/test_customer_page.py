"""What a member reads about their membership on their own page (/t/<token>): crm.loyalty.queries.customer_page,
called as a service with a session and ``now``."""

from datetime import UTC, datetime, timedelta

from crm.loyalty import accounts, coupons, ledger
from crm.loyalty.models import Activity, Coupon, CouponTemplate
from crm.loyalty.program import tiers, update_program
from crm.loyalty.queries import customer_page
from tests import factories

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _member(session, name="Olena Shevchenko", *, at=NOW - timedelta(days=100)):
    customer = factories.customer(name=name)
    return customer, accounts.enrol(session, customer, now=at)


def _paid(session, customer, *, at, spend_minor, repairs=0, reference=None):
    session.add(Activity(customer_id=customer.id, at=at, spend_minor=spend_minor, repairs=repairs,
                         reference=reference or f"sale:{customer.id}:{at.isoformat()}"))
    session.flush()


def _template(session, **fields):
    values = dict(name="15% off accessories", kind="percent", value=1500, categories="accessory", min_bill_minor=0,
                  validity_days=30, active=True)
    values.update(fields)
    template = CouponTemplate(**values)
    session.add(template)
    session.flush()
    return template


def test_a_customer_who_is_not_a_member_has_no_membership_to_show(session):
    assert customer_page(session, factories.customer().id, NOW) is None


def test_nothing_is_shown_while_the_program_is_switched_off(session):
    customer, _ = _member(session)
    update_program(session, {"enabled": False}, actor=None)
    assert customer_page(session, customer.id, NOW) is None


def test_a_member_sees_the_balance_and_what_it_is_worth_with_only_the_first_name(session):
    update_program(session, {"welcome_bonus": 0, "point_value_minor": 50}, actor=None)
    customer, account = _member(session, "Olena Maria Shevchenko")
    ledger.credit(session, account, "adjust", 240, key="seed", reason="Opening", now=NOW - timedelta(days=10),
                  expiry_months=12)
    page = customer_page(session, customer.id, NOW)
    assert (page.balance, page.balance_minor) == (240, 12_000)  # 240 points of 0.50 each
    assert page.first_name == "Olena"
    assert page.referral_code == account.referral_code
    assert (page.referee_bonus, page.referral_bonus) == (50, 100)  # the program's defaults: friend, member


def test_points_expiring_within_the_warning_window_are_counted_with_their_first_and_last_date(session):
    update_program(session, {"welcome_bonus": 0, "expiry_warning_days": 14, "expiry_months": 12}, actor=None)
    customer, account = _member(session, at=NOW - timedelta(days=400))
    year_ago = NOW - timedelta(days=365)  # lots credited then expire 12 months later
    ledger.credit(session, account, "earn", 30, key="a", now=year_ago + timedelta(days=-3), expiry_months=12)
    ledger.credit(session, account, "earn", 20, key="b", now=year_ago + timedelta(days=5), expiry_months=12)
    ledger.credit(session, account, "earn", 70, key="c", now=year_ago + timedelta(days=12), expiry_months=12)
    ledger.credit(session, account, "earn", 500, key="later", now=year_ago + timedelta(days=60), expiry_months=12)
    ledger.credit(session, account, "adjust", 9, key="forever", now=year_ago, expiry_months=0)
    ledger.debit(session, account, "redeem", 10, key="spent", now=year_ago + timedelta(days=20))  # from lot a

    page = customer_page(session, customer.id, NOW)
    first_due, last_due = ledger.expiry_for(year_ago + timedelta(days=5), 12), ledger.expiry_for(
        year_ago + timedelta(days=12), 12)
    assert page.expiring_points == 20 + 70  # lot a is past its expiry (the nightly job has not run yet)
    assert (page.expiring_first, page.expiring_last) == (first_due, last_due)
    assert page.balance == 30 + 20 + 70 + 500 + 9 - 10 - 20  # what is left of lot a cannot be spent any more


def test_nothing_expires_soon_when_the_first_expiry_is_beyond_the_warning_window(session):
    update_program(session, {"welcome_bonus": 0, "expiry_warning_days": 14}, actor=None)
    customer, account = _member(session)
    ledger.credit(session, account, "earn", 80, key="a", now=NOW - timedelta(days=300), expiry_months=12)
    page = customer_page(session, customer.id, NOW)
    assert (page.expiring_points, page.expiring_first) == (0, None) and page.balance == 80


def test_the_next_tier_says_how_much_spend_or_how_many_repairs_are_missing_within_the_window(session):
    customer, _ = _member(session)  # Bronze; Silver at 5,000.00 or 3 repairs over 12 months (the defaults)
    _paid(session, customer, at=NOW - timedelta(days=20), spend_minor=120_000, repairs=1)
    _paid(session, customer, at=NOW - timedelta(days=500), spend_minor=900_000, repairs=5)  # outside the window
    standing = customer_page(session, customer.id, NOW).standing
    assert (standing.tier.name, standing.next_tier.name) == ("Bronze", "Silver")
    assert (standing.spend_minor, standing.repairs, standing.window_months) == (120_000, 1, 12)
    assert (standing.missing_spend_minor, standing.missing_repairs) == (380_000, 2)


def test_a_member_of_the_top_tier_has_no_next_tier(session):
    customer, account = _member(session)
    account.tier_id = tiers(session)[-1].id
    page = customer_page(session, customer.id, NOW)
    assert page.tier.name == "Gold" and page.tier.free_diagnostics and page.standing.next_tier is None


def test_only_the_members_own_unused_unexpired_personal_coupons_are_listed_soonest_first(session):
    customer, _ = _member(session)
    other, _ = _member(session, "Someone Else")
    template = _template(session)
    later = coupons.issue_personal(session, template, customer.id, issued_for="sale:1", now=NOW - timedelta(days=1))
    sooner = coupons.issue_personal(session, template, customer.id, issued_for="sale:2", now=NOW - timedelta(days=5))
    used = coupons.issue_personal(session, template, customer.id, issued_for="sale:3", now=NOW - timedelta(days=2))
    used.used_count = 1
    coupons.issue_personal(session, template, customer.id, issued_for="sale:4", now=NOW - timedelta(days=31))
    coupons.issue_personal(session, template, other.id, issued_for="sale:5", now=NOW - timedelta(days=1))
    ended = _template(session, name="Ended offer", active=False)
    coupons.issue_personal(session, ended, customer.id, issued_for="sale:6", now=NOW - timedelta(days=1))
    session.add(Coupon(code="SPRING", kind="promo", template_id=template.id, usage_limit=100, used_count=0,
                       valid_from=NOW - timedelta(days=1), valid_until=NOW + timedelta(days=9)))
    session.flush()

    page = customer_page(session, customer.id, NOW)
    assert [c.code for c in page.coupons] == [sooner.code, later.code]
    assert page.coupons[0].template.name == "15% off accessories"  # loaded with the coupons


def test_a_member_costs_the_same_few_statements_however_many_lots_and_coupons(session, count_queries):
    template = _template(session)
    few, _ = _member(session, "Few")
    many, account = _member(session, "Many")
    for n in range(15):
        ledger.credit(session, account, "earn", 10, key=f"lot:{n}", now=NOW - timedelta(days=364, hours=n),
                      expiry_months=12)  # each expires within the next day
        coupons.issue_personal(session, template, many.id, issued_for=f"sale:{n}", now=NOW - timedelta(days=n))
        _paid(session, many, at=NOW - timedelta(days=n), spend_minor=1000, repairs=1, reference=f"sale:{n}")
    ids = few.id, many.id
    session.commit()
    counts = []
    for customer_id in ids:
        session.rollback()  # each page is a request of its own: the settings are read once per transaction
        with count_queries() as counter:
            page = customer_page(session, customer_id, NOW)
        counts.append(counter.count)
    assert len(page.coupons) == 15 and page.expiring_points == 10 * 15
    assert counts[0] == counts[1] <= 6
    stranger = factories.customer().id
    with count_queries() as counter:
        customer_page(session, stranger, NOW)
    assert counter.count == 1  # a customer who is not a member: one look for the account
