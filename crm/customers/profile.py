"""Sections of the customer's profile page contributed by modules that depend on customers.

customers must not import orders or loyalty, yet the profile shows repairs (and later points);
those modules register a section here at start-up instead."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProfileSection:
    template: str
    context: Callable  # (session, customer) -> dict for the template
    order: int = 100


_sections: list[ProfileSection] = []


def register_profile_section(section: ProfileSection) -> None:
    if section not in _sections:
        _sections.append(section)
        _sections.sort(key=lambda s: s.order)


def profile_sections() -> list[ProfileSection]:
    return list(_sections)
