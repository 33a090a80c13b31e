"""The clock-driven part of the bot: scheduled reports when they are due, budget checks hourly.

Slack-free and time-free: everything comes in through the constructor (the stores and three
callbacks) and every method takes `now`, so tests drive it with a fake clock.

- `tick(now)` makes every run due at `now` (see `schedules.due_run`): it claims the run in the
  store (exactly one process wins it, whatever the number of replicas), reads the schedule's
  words as on the run's day (`schedules.report_for`) and calls `run_report(schedule,
  report)`; then it records the run, whether the callback succeeded or not (a run is posted
  at most once). At the first tick of each UTC hour it also checks the budgets: for each,
  `month_to_date(project)` gives the month's cost so far and the high end of its month-end
  estimate (or None), `budgets.crossed` says which thresholds are new, each is claimed in the
  store, and `alert(budget, threshold, figures)` posts those worth posting. Then it runs the
  anomaly check, `check_anomalies(now)` (`bot.core.watch.check.Watch.check`), if given.
- `catch_up(now)` is the tick made at start: missed runs (only the latest of each schedule)
  and a budget check, whatever the hour.
- `run_forever(clock)` is `catch_up` and then a tick every `interval` seconds, until it is
  cancelled: cancel it (and await it) before closing the stores and the Slack client.

One callback failing is logged and does not stop the others.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from bot.clock import Clock, aware_utc
from bot.core.language.commands import Report, ScopeKind
from bot.core.scheduled.budgets import (
    CHECK_FAILED,
    AlertKind,
    Budget,
    BudgetAlert,
    BudgetFigures,
    BudgetStore,
    MonthSpend,
    due_alerts,
    had_alerts,
    month_key,
    previous_month,
)
from bot.core.scheduled.schedules import (
    Schedule,
    ScheduleStore,
    due_run,
    latest_ended_run,
    latest_run,
    report_for,
)
from bot.errors import BillingBotError, CommandError
from bot.observe.figures import BudgetUse
from bot.observe.metrics import Metrics

__all__ = [
    "Alert",
    "MonthToDate",
    "RunOutcome",
    "RunReport",
    "ScheduledRun",
    "Scheduler",
    "SentAlert",
    "TickResult",
]

log = logging.getLogger(__name__)

RunReport = Callable[[Schedule, Report], Awaitable[None]]
# the budgets -> how to get each one's month so far (fetched once for all; a call may raise,
# and then that budget's check fails)
MonthToDate = Callable[[Sequence[Budget]], Awaitable[Callable[[Budget], MonthSpend]]]
Alert = Callable[[Budget, BudgetAlert, BudgetFigures], Awaitable[None]]
# tell a budget's channel that its check fails (for example, the project no longer exists)
CheckFailed = Callable[[Budget, Exception], Awaitable[None]]
# the anomaly check (`Watch.check`): claims in its own store, so any replica may run it
CheckAnomalies = Callable[[datetime], Awaitable[object]]

BUDGET_CHECK_EVERY: Final = timedelta(hours=1)
LATE: Final = timedelta(minutes=10)  # a run made this long after its time was made up


class RunOutcome(StrEnum):
    RAN = "ran"  # this process posted it
    FAILED = "failed"  # this process claimed it, and the report or its posting failed
    TAKEN = "taken"  # another process claimed it first (or the schedule just went away)


@dataclass(frozen=True)
class ScheduledRun:
    schedule_id: str
    period: str
    due_at: datetime
    outcome: RunOutcome

    def made_up(self, now: datetime) -> bool:
        return now - self.due_at >= LATE


@dataclass(frozen=True)
class SentAlert:
    key: str  # the budget's
    alert: BudgetAlert
    posted: bool  # False: claimed without a post (older news), or the post failed


@dataclass(frozen=True)
class TickResult:
    runs: tuple[ScheduledRun, ...] = ()
    budgets_checked: bool = False
    alerts: tuple[SentAlert, ...] = ()
    errors: tuple[str, ...] = ()  # what could not be done at all (a store away), for logs


def default_owner() -> str:
    """Who claims runs: this host and process, and a random part for restarts."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


def _hour(now: datetime) -> datetime:
    return aware_utc(now).replace(minute=0, second=0, microsecond=0)


class Scheduler:
    def __init__(
        self,
        schedules: ScheduleStore,
        budgets: BudgetStore,
        *,
        run_report: RunReport,
        month_to_date: MonthToDate,
        alert: Alert,
        check_failed: CheckFailed | None = None,
        check_anomalies: CheckAnomalies | None = None,
        owner: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._schedules = schedules
        self._metrics = metrics
        self._budgets = budgets
        self._run_report = run_report
        self._month_to_date = month_to_date
        self._alert = alert
        self._check_failed = check_failed
        self._check_anomalies = check_anomalies
        self.owner = owner or default_owner()
        self._checked_hour: datetime | None = None
        self._busy = asyncio.Lock()  # ticks of this process never overlap

    # -- the loop ---------------------------------------------------------------------------

    async def tick(self, now: datetime) -> TickResult:
        """The runs due at `now`; and the budget check, at the first tick of an hour."""
        async with self._busy:
            return await self._tick(now, force_budgets=False)

    async def catch_up(self, now: datetime) -> TickResult:
        """At start: the latest missed run of each schedule, and a budget check."""
        async with self._busy:
            result = await self._tick(now, force_budgets=True)
        for run in result.runs:
            if run.outcome is not RunOutcome.TAKEN and run.made_up(now):
                log.info(
                    "made up the missed run %s of schedule %s (due %s)",
                    run.period,
                    run.schedule_id,
                    run.due_at.isoformat(),
                )
        return result

    async def run_forever(
        self,
        clock: Clock,
        interval: float = 60.0,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`catch_up`, then `tick` every `interval` seconds, until cancelled."""
        await self._guarded(self.catch_up, clock)
        while True:
            await sleep(interval)
            await self._guarded(self.tick, clock)

    async def _guarded(
        self, step: Callable[[datetime], Awaitable[TickResult]], clock: Clock
    ) -> None:
        try:
            result = await step(clock())
        except Exception:
            log.exception("the scheduler's tick failed; it runs again at the next one")
            return
        for error in result.errors:
            log.warning("scheduler: %s", error)

    async def _tick(self, now: datetime, *, force_budgets: bool) -> TickResult:
        errors: list[str] = []
        runs: tuple[ScheduledRun, ...] = ()
        alerts: tuple[SentAlert, ...] = ()
        try:
            runs = await self._run_due(now)
        except Exception as error:
            log.exception("could not read the schedules")
            errors.append(f"schedules unavailable ({type(error).__name__})")
        checked = force_budgets or self._checked_hour is None or _hour(now) > self._checked_hour
        if checked:
            self._checked_hour = _hour(now)  # one attempt an hour, even if it fails
            try:
                alerts = await self._check_budgets(now)
            except Exception as error:
                log.exception("could not read the budgets")
                errors.append(f"budgets unavailable ({type(error).__name__})")
            if self._check_anomalies is not None:
                try:
                    await self._check_anomalies(now)
                except Exception as error:
                    log.exception("the anomaly check failed")
                    errors.append(f"anomaly check failed ({type(error).__name__})")
        result = TickResult(runs, checked, alerts, tuple(errors))
        if self._metrics is not None:
            _observe(self._metrics, now, result)
        return result

    # -- scheduled reports ------------------------------------------------------------------

    async def run_schedules(self, now: datetime) -> tuple[ScheduledRun, ...]:
        """The runs due at `now`, each claimed first (no budget check)."""
        async with self._busy:
            return await self._run_due(now)

    async def _run_due(self, now: datetime) -> tuple[ScheduledRun, ...]:
        runs: list[ScheduledRun] = []
        for schedule in await self._schedules.list():
            period = due_run(schedule, now)
            if period is None:
                continue
            _, due_at = latest_run(schedule.frequency, now)
            if not await self._schedules.claim_run(schedule.id, period, self.owner):
                runs.append(ScheduledRun(schedule.id, period, due_at, RunOutcome.TAKEN))
                continue
            try:
                outcome = await self._post(schedule, period)
            finally:
                await self._schedules.mark_run(schedule.id, period)
            runs.append(ScheduledRun(schedule.id, period, due_at, outcome))
        return tuple(runs)

    async def _post(self, schedule: Schedule, period: str) -> RunOutcome:
        try:
            report = report_for(schedule, period)
        except CommandError as error:
            log.error(
                "schedule %s: its words no longer make a report (%s); run %s skipped",
                schedule.id,
                error.user_message,
                period,
            )
            return RunOutcome.FAILED
        try:
            await self._run_report(schedule, report)
        except Exception:
            log.exception("schedule %s: run %s failed; it is not retried", schedule.id, period)
            return RunOutcome.FAILED
        log.info("schedule %s: posted run %s in %s", schedule.id, period, schedule.channel)
        return RunOutcome.RAN

    async def schedules(self) -> list[Schedule]:
        """Every schedule, in the order `schedule list` shows them."""
        return await self._schedules.list()

    async def run_now(self, schedule_id: str, now: datetime) -> Report | None:
        """Post the run of a schedule's latest ended period (yesterday's for a daily one, even
        before today's run hour), at once, unclaimed and unrecorded: for the demo and for
        trying a schedule out. None for an unknown schedule."""
        schedule = await self._schedules.get(schedule_id)
        if schedule is None:
            return None
        period = latest_ended_run(schedule.frequency, now)
        report = report_for(schedule, period)
        await self._run_report(schedule, report)
        return report

    # -- budgets ----------------------------------------------------------------------------

    async def check_budgets(self, now: datetime) -> tuple[SentAlert, ...]:
        """Check every budget now, whatever the hour."""
        async with self._busy:
            self._checked_hour = _hour(now)
            return await self._check_budgets(now)

    async def check_anomalies(self, now: datetime) -> object:
        """Run the anomaly check now, whatever the hour (None without one)."""
        if self._check_anomalies is None:
            return None
        async with self._busy:
            return await self._check_anomalies(now)

    async def _check_budgets(self, now: datetime) -> tuple[SentAlert, ...]:
        month = month_key(now)
        budgets = await self._budgets.list()
        if not budgets:
            return ()
        try:
            spend_of = await self._month_to_date(budgets)
        except Exception as error:
            failure = error

            def spend_of(_: Budget) -> MonthSpend:
                raise failure

        sent: list[SentAlert] = []
        uses: list[tuple[str, str, BudgetUse]] = []
        for budget in budgets:
            try:
                figures = spend_of(budget).figures(budget, month)
            except Exception as error:
                await self._report_failed_check(budget, month, error)
                continue
            if budget.scope is ScopeKind.PROJECT:  # the gauge's label is a project's name
                uses.append(
                    (
                        budget.name,
                        figures.currency,
                        BudgetUse(month, figures.month_to_date, figures.amount),
                    )
                )
            already = await self._budgets.sent(budget.key, month)
            if not already and had_alerts(
                await self._budgets.sent(budget.key, previous_month(month))
            ):
                sent.extend(
                    await self._claim(budget, BudgetAlert(AlertKind.NEW_MONTH), figures, month)
                )
            for due in due_alerts(budget, figures, already):
                sent.extend(await self._claim(budget, due.alert, figures, month, post=due.post))
        if self._metrics is not None:
            self._metrics.figures.budgets(uses)
        return tuple(sent)

    async def _claim(
        self,
        budget: Budget,
        alert: BudgetAlert,
        figures: BudgetFigures,
        month: str,
        *,
        post: bool = True,
    ) -> list[SentAlert]:
        if not await self._budgets.claim_alert(budget.key, month, alert.claim):
            return []  # another replica has it
        posted = post and await self._post_alert(budget, alert, figures)
        return [SentAlert(budget.key, alert, posted)]

    async def _report_failed_check(self, budget: Budget, month: str, error: Exception) -> None:
        """Told once a month in the budget's channel (one replica claims it); every other
        hour, one line in the log. A traceback only for an error the bot did not expect."""
        what = f"budget {budget.key}: could not get this month's cost"
        expected = isinstance(error, BillingBotError)
        if not await self._budgets.claim_alert(budget.key, month, CHECK_FAILED):
            log.warning("%s (%s; the channel was told this month)", what, type(error).__name__)
            return
        log.log(
            logging.WARNING if expected else logging.ERROR,
            "%s (%s)",
            what,
            type(error).__name__,
            exc_info=None if expected else error,
        )
        if self._check_failed is None:
            return
        try:
            await self._check_failed(budget, error)
        except Exception:
            log.exception("%s: the channel could not be told", what)

    async def _post_alert(self, budget: Budget, alert: BudgetAlert, figures: BudgetFigures) -> bool:
        try:
            await self._alert(budget, alert, figures)
        except Exception:
            log.exception(
                "budget %s: the %s alert failed; it is not retried this month", budget.key, alert
            )
            return False
        return True


def _observe(metrics: Metrics, now: datetime, result: TickResult) -> None:
    """A tick's runs (with how late each run made here started) and alerts, counted."""
    metrics.scheduler_tick(
        now.timestamp(),
        (
            (
                r.outcome.value,
                None if r.outcome is RunOutcome.TAKEN else (now - r.due_at).total_seconds(),
            )
            for r in result.runs
        ),
        budgets_checked=result.budgets_checked,
        alerts=((a.alert.kind.value, a.posted) for a in result.alerts),
        errors=len(result.errors),
    )
