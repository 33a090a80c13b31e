"""What every listener needs, put into Bolt's context by one middleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date

from slack_bolt.context.async_context import AsyncBoltContext

from bot.clock import Clock
from bot.config import Settings
from bot.core.billing import BillingService
from bot.core.changes.service import ChangeService
from bot.core.scheduled.budgets import BudgetStore
from bot.core.scheduled.schedules import ScheduleStore
from bot.core.watch.check import Watch
from bot.observe.metrics import Metrics
from bot.slack.delivery import ChannelGuard
from bot.store.dedupe import Dedupe

_KEY = "billing_bot_deps"


@dataclass(frozen=True)
class Deps:
    billing: BillingService
    changes: ChangeService
    dedupe: Dedupe
    schedules: ScheduleStore
    budgets: BudgetStore
    watch: Watch  # the anomaly check, and its store (`watch.store`)
    settings: Settings
    clock: Clock
    guard: ChannelGuard  # no billing data in channels shared with another organization
    metrics: Metrics = field(default_factory=Metrics)

    def is_admin(self, user_id: str | None) -> bool:
        return user_id is not None and user_id in self.settings.billing_admins

    def today(self) -> date:
        return self.clock().date()

    @staticmethod
    def of(context: AsyncBoltContext) -> Deps:
        deps = context.get(_KEY)
        if not isinstance(deps, Deps):
            raise RuntimeError("the deps middleware is not installed")
        return deps

    def middleware(self) -> Callable[..., Awaitable[None]]:
        async def inject(context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
            context[_KEY] = self
            await next()

        return inject
