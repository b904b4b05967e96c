"""Sections of the customer's profile page contributed by modules that depend on customers.

customers must not import orders or loyalty, yet the profile shows repairs (and later points);
those modules register a section here at start-up instead.

The page has tabs, each a page of its own with a fixed, small number of statements: the overview (the
customer, their points in short, repairs, purchases), the points history (every entry, coupons, whom they
brought in) and messages (feedback, messages sent, consent history). A section names its tab."""

from collections.abc import Callable
from dataclasses import dataclass

from crm.locales import lazy_gettext as _l

OVERVIEW = "overview"
POINTS = "points"
MESSAGES = "messages"
TABS = {OVERVIEW: _l("Overview"), POINTS: _l("Points history"), MESSAGES: _l("Messages and feedback")}
TAB_ENDPOINTS = {OVERVIEW: "customers.profile", POINTS: "customers.profile_points",
                 MESSAGES: "customers.profile_messages"}


@dataclass(frozen=True)
class ProfileSection:
    template: str
    context: Callable  # (session, customer) -> dict for the template
    order: int = 100
    tab: str = OVERVIEW


_sections: list[ProfileSection] = []


def register_profile_section(section: ProfileSection) -> None:
    if section.tab not in TABS:
        raise ValueError(f"no profile tab {section.tab!r}")
    if section not in _sections:
        _sections.append(section)
        _sections.sort(key=lambda s: s.order)


def profile_sections(tab: str = OVERVIEW) -> list[ProfileSection]:
    return [section for section in _sections if section.tab == tab]
