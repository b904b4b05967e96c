"""The register of scheduled jobs. A module declares its job with one line above the function:

    @daily("birthday-bonuses", at="09:00")
    def birthday_bonuses(session, now): ...

Every job is a function of (session, now) that selects what is due in SQL and does it once: its
effects carry unique keys, so a run that repeats, comes late or overlaps another does nothing twice.
A job commits its own units of work (a customer, a batch), so a failure midway keeps what is done and
the next run catches up the rest. crm/scheduler.py turns the register into APScheduler jobs; the CLI's
``run-job`` runs one of them once."""

import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

JobFunction = Callable[..., object]


@dataclass(frozen=True)
class Job:
    name: str
    function: JobFunction
    every_seconds: int | None = None  # interval jobs
    at: str | None = None  # daily jobs: "HH:MM" in the shop's time zone

    @property
    def schedule(self) -> str:
        return f"every {self.every_seconds} s" if self.every_seconds else f"daily at {self.at} (shop time)"


JOBS: dict[str, Job] = {}


def _register(job: Job) -> None:
    if job.name in JOBS and JOBS[job.name].function is not job.function:
        raise ValueError(f"two jobs are called {job.name}")
    JOBS[job.name] = job


def every(name: str, *, seconds: int):
    def decorate(function: JobFunction) -> JobFunction:
        _register(Job(name, function, every_seconds=seconds))
        return function
    return decorate


def daily(name: str, *, at: str):
    hour, minute = (int(part) for part in at.split(":"))
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"bad time {at!r} for job {name}")

    def decorate(function: JobFunction) -> JobFunction:
        _register(Job(name, function, at=f"{hour:02d}:{minute:02d}"))
        return function
    return decorate


def discover() -> dict[str, Job]:
    """Import every crm.<module>.jobs so their declarations run; returns the register."""
    import crm

    for module in pkgutil.iter_modules(crm.__path__):
        if module.ispkg and importlib.util.find_spec(f"crm.{module.name}.jobs") is not None:
            importlib.import_module(f"crm.{module.name}.jobs")
    return JOBS
