"""The core: answers billing questions from the API clients through the cache.

Slack-free. Each method returns an answer from `bot.core.answers` or raises a typed error from
`bot.errors`; handlers only render what comes back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import BinaryIO, TypeVar

from bot.apis.contro.client import MAX_LIMIT, ControClient
from bot.apis.contro.models import UsageRecord, UsageSummary
from bot.apis.mkio.client import MkioClient
from bot.apis.mkio.models import (
    Granularity,
    IdentifiedPaymentMethod,
    PaymentMethod,
    RateCard,
    ReportQuery,
    ReportRow,
)
from bot.clock import Clock, month_to_date, next_month_start
from bot.core.answers import (
    ControRecordsAnswer,
    ControSummaryAnswer,
    MeterUsage,
    MetricsAnswer,
    PaymentMethodsAnswer,
    ProjectPaymentMethodAnswer,
    ProjectsAnswer,
    RateCardAnswer,
    RecordsPageRef,
    UsageAnswer,
)
from bot.core.cache import AnswerCache
from bot.core.exports import ControExport, ExportProgress, export_contro_records, reconcile
from bot.core.figures import known_month, known_rows, known_usage
from bot.core.language.commands import Period, Report, ScopeKind, quote
from bot.core.language.words import nearest, render_command, slug
from bot.core.reports.compare import Baseline, baseline_query, compare, unavailable
from bot.core.reports.estimate import daily_costs, estimate_month_end, has_estimate
from bot.core.reports.fold import ReportFold
from bot.core.reports.reconcile import (
    DEFAULT_TOLERANCE,
    ControCheck,
    Reconciliation,
    RecordTally,
    ReportedFold,
    UsageFold,
    check_contro,
    drift_of,
    price_lines,
)
from bot.core.reports.summary import ReportSummary
from bot.core.scheduled.budget_spend import (
    CONTRO_FORECAST_MAX_RECORDS,
    MKIO_SCOPES,
    BudgetMonth,
    SpendRow,
    contro_spend_rows,
    spend_rows,
)
from bot.core.scheduled.budgets import Budget
from bot.errors import BillingBotError, CommandError, NotConfigured, NotFound, UpstreamError
from bot.money import Money, Totals
from bot.observe.metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

RECORDS_PAGE_SIZE = 20
#: The most rows of a usage report the bot reads (`REPORT_MAX_ROWS`): more is refused.
DEFAULT_REPORT_MAX_ROWS = 2_000_000


async def _none() -> tuple[None, None]:
    return None, None


def _typed(method: IdentifiedPaymentMethod) -> str:
    """How a payment method is typed in one word: its name's slug, or its ID."""
    return slug(method.name) if method.display_name and slug(method.name) else method.id


def unknown_project(project: str, names: tuple[str, ...], command: str | None) -> CommandError:
    """MK.IO has no `project`: the nearest of `names`, and with `command` (`usage`) the
    command again with the nearest name."""
    near = nearest(project, names)
    said = f"MK.IO has no project `{quote(project)}`."
    if near:
        options = " or ".join(f"`{quote(n)}`" for n in near)
        said += f" Did you mean {options}? Project names are case-sensitive."
    elif names:
        shown = ", ".join(f"`{quote(n)}`" for n in names[:10])
        said += f" Its projects: {shown}{', …' if len(names) > 10 else ''}."
    suggestion = render_command((command, near[0])) if command and near else None
    return CommandError(said, suggestion)


class BillingService:
    def __init__(
        self,
        *,
        mkio: MkioClient | None,
        contro: ControClient | None,
        cache: AnswerCache,
        clock: Clock,
        report_max_rows: int = DEFAULT_REPORT_MAX_ROWS,
        metrics: Metrics | None = None,
    ) -> None:
        self._mkio = mkio
        self._metrics = metrics
        self._report_max_rows = report_max_rows
        self._contro = contro
        self._cache = cache
        self._clock = clock
        # the last lists seen, for help's examples: no call upstream to fill them
        self.known_projects: tuple[str, ...] = ()
        self.known_payment_methods: tuple[str, ...] = ()

    @property
    def mkio(self) -> MkioClient:
        if self._mkio is None:
            raise NotConfigured("MK.IO", "MKIO_TOKEN")
        return self._mkio

    @property
    def contro(self) -> ControClient:
        if self._contro is None:
            raise NotConfigured("Contro", "CONTRO_API_KEY")
        return self._contro

    def queued(self) -> int:
        """Requests waiting in the bot for a turn at either API (their concurrency bound)."""
        return sum(api.queued for api in (self._mkio, self._contro) if api is not None)

    async def _cached(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        return await self._cache.get_or_load(key, load)

    async def forget_project(self, project: str) -> None:
        """Drop every cached answer about `project` (after a billing change)."""
        await self._cache.invalidate(f"project:{project}:")
        await self._cache.invalidate("org:")

    # -- MK.IO ----------------------------------------------------------------------------

    async def require_project(self, project: str, *, help_topic: str) -> None:
        """Raise `CommandError` unless MK.IO has `project` (asked each time: never stale)."""
        names = tuple(p.name for p in await self.mkio.list_projects())
        if project not in names:
            error = unknown_project(project, names, None)
            raise CommandError(
                error.user_message, suggestion=error.suggestion or f"/billing help {help_topic}"
            )

    async def projects(self, *, fresh: bool = False) -> tuple[str, ...]:
        """The organization's project names, cached like any answer; `fresh` drops the cached
        list first (a name missing from it may be new)."""
        mkio = self.mkio

        async def load() -> ProjectsAnswer:
            listed = await mkio.list_projects()
            return ProjectsAnswer(tuple(p.name for p in listed), self._clock())

        if fresh:
            await self._cache.invalidate("org:projects")
        answer = await self._cached("org:projects", load)
        self.known_projects = answer.names
        return answer.names

    async def check_projects(self, projects: tuple[str, ...]) -> None:
        """Raise `CommandError`, naming the nearest known ones, for the first of `projects`
        MK.IO does not have: against the cached list, and a fresh one before refusing."""
        if not projects:
            return
        names = await self.projects()
        if any(p not in names for p in projects):
            names = await self.projects(fresh=True)
        for project in projects:
            if project not in names:
                raise unknown_project(project, names, None)

    async def _of_project(self, project: str, command: str, answer: Awaitable[T]) -> T:
        """`answer`; its 404 told as "no project `x`, did you mean …" when the project is
        the unknown thing (and not, say, its payment method)."""
        try:
            return await answer
        except NotFound:
            try:  # MK.IO has just said the name is unknown: the cached list is enough to say so
                names = await self.projects()
            except BillingBotError:
                raise  # the 404 as MK.IO put it
            if project in names:
                raise
            raise unknown_project(project, names, command) from None

    async def usage(self, project: str) -> UsageAnswer:
        """Month-to-date usage: quantities from the usage endpoint, cost from a report, and
        the month-end estimate from the daily costs.

        The usage endpoint has no cost; a month-granularity report from the 1st of this month
        to tomorrow (UTC, end exclusive) is the authoritative cost, entitlements included. A
        day-granularity report over the same dates gives the daily costs `bot.core.reports.estimate`
        extrapolates from; it is not asked for in a month's first two days (no estimate then).
        The three calls run at once; the whole answer is cached.
        """
        mkio = self.mkio
        today = self._clock().date()
        start, end = month_to_date(today)

        def month_query(granularity: Granularity) -> ReportQuery:
            return ReportQuery.month_to_date(today, granularity, projects=(project,))

        async def no_days() -> None:
            return None

        wants_estimate = has_estimate(today)

        async def load() -> UsageAnswer:
            usage, report, days = await asyncio.gather(
                mkio.project_usage(project),
                mkio.usage_report(month_query(Granularity.MONTH)),
                mkio.usage_report(month_query(Granularity.DAY)) if wants_estimate else no_days(),
            )
            quantities: dict[str, Decimal] = defaultdict(Decimal)
            units: dict[str, str | None] = {}
            for row in usage.value:
                quantities[row.meter_name] += row.quantity
                units.setdefault(row.meter_name, row.unit)
            costs: dict[str, list[Money]] = defaultdict(list)
            report_quantities: dict[str, Decimal] = defaultdict(Decimal)
            for data in report.value:
                costs[data.meter_name].append(data.cost_money)
                report_quantities[data.meter_name] += data.quantity
                units.setdefault(data.meter_name, data.unit)
            totals = Totals.of(data.cost_money for data in report.value)
            meters = [
                MeterUsage(
                    meter=name,
                    quantity=quantities.get(name, report_quantities.get(name, Decimal(0))),
                    unit=units.get(name),
                    cost=Totals.of(costs[name]) if name in costs else None,
                )
                for name in units
            ]

            def rank(m: MeterUsage) -> tuple[tuple[Decimal, ...], str]:
                cost = m.cost or Totals()
                return tuple(-cost.get(code).amount for code in totals.currencies), m.meter

            meters.sort(key=rank)
            # one estimate per currency: amounts in two currencies are never extrapolated together
            estimates = (
                ()
                if days is None
                else tuple(
                    e
                    for code in totals.currencies
                    if (e := estimate_month_end(daily_costs(days, code), today, code)) is not None
                )
            )
            return UsageAnswer(
                project=project,
                start=start,
                end=end,
                meters=meters,
                totals=totals,
                uncharged=any(not data.charged for data in report.value),
                fetched_at=self._clock(),
                estimates=estimates,
            )

        key = f"project:{project}:usage:{start}:{end}"
        answer = await self._of_project(project, "usage", self._cached(key, load))
        if self._metrics is not None:
            known_usage(self._metrics, answer)
        return answer

    async def payment_methods(self) -> PaymentMethodsAnswer:
        mkio = self.mkio

        async def load() -> PaymentMethodsAnswer:
            listed = await mkio.payment_methods()
            return PaymentMethodsAnswer(
                methods=[m for m in map(PaymentMethod.identified, listed) if m is not None],
                fetched_at=self._clock(),
                unidentified=[m for m in listed if m.id is None],
            )

        answer = await self._cached("org:payment-methods", load)
        self.known_payment_methods = tuple(_typed(m) for m in answer.methods)
        return answer

    async def find_payment_method(
        self, id_or_name: str, *, command: tuple[str, ...] = ()
    ) -> IdentifiedPaymentMethod:
        """A payment method by ID, or by display name when exactly one has it. A name may be
        typed in any case, or as a slug (`azure-marketplace-contoso-media`) where a command
        takes one word. An unknown one is refused naming the nearest, and with `command`
        (the words before the method: `ratecard`) suggesting it."""
        methods = (await self.payment_methods()).methods
        for method in methods:
            if method.id == id_or_name:
                return method
        wanted = slug(id_or_name)
        named = [m for m in methods if m.display_name and slug(m.name) == wanted]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise CommandError(
                f"{len(named)} payment methods are named that: use the ID instead.",
                suggestion="/billing payment-methods",
            )
        typed = {m.name: _typed(m) for m in methods} | {m.id: m.id for m in methods}
        near = list(dict.fromkeys(typed[n] for n in nearest(id_or_name, typed)))
        said = f"There is no payment method with that ID or name: `{quote(id_or_name)}`."
        if near:
            said += " Did you mean " + " or ".join(f"`{quote(n)}`" for n in near) + "?"
        listing = "/billing payment-methods"
        one = bool(command) and len(near) == 1
        raise CommandError(said, render_command((*command, near[0])) if one else listing)

    async def report_query(self, command: Report) -> tuple[ReportQuery, tuple[str, ...]]:
        """The API query for a `report` command, and the names of its payment-method filter
        (given by ID or unique display name; resolved before anything is reported)."""
        await self.check_projects(command.projects)
        methods = [await self.find_payment_method(m) for m in command.payment_methods]
        query = ReportQuery(
            start_date=command.range.start,
            end_date=command.range.end,
            granularity=command.granularity,
            project_names=command.projects,
            payment_method_ids=tuple(m.id for m in methods),
            filter_on_reported_date=command.reported,
        )
        return query, tuple(m.name for m in methods)

    async def report(
        self,
        query: ReportQuery,
        filter_names: tuple[str, ...],
        *,
        compare_to: Baseline | None = None,
    ) -> ReportSummary:
        """The report's summary; with `compare_to` (see `bot.core.reports.compare.baseline_for`) the
        baseline period's report is fetched at the same time, with the same filters, and the
        summary comes back with its `comparison`. Each period's summary is cached on its own.

        A baseline that cannot be fetched does not fail the report: its comparison says it is
        unavailable (the error is logged). An error of the report itself is raised as ever.
        """
        if compare_to is None:
            return await self._summary(query, filter_names)
        other = baseline_query(query, compare_to)
        current, previous = await asyncio.gather(
            self._summary(query, filter_names),
            self._summary(other, filter_names),
            return_exceptions=True,
        )
        if isinstance(current, BaseException):
            raise current
        if isinstance(previous, BaseException):
            if not isinstance(previous, Exception):
                raise previous
            expected = isinstance(previous, BillingBotError)
            log.warning(
                "no comparison with %s..%s: %s",
                other.start_date,
                other.end_date,
                type(previous).__name__,
                exc_info=None if expected else previous,
            )
            said = (
                previous.user_message
                if isinstance(previous, BillingBotError)
                else "it could not be fetched"
            )
            comparison = unavailable(current, compare_to, said)
        else:
            comparison = compare(current, previous, compare_to)
        return dataclasses.replace(current, comparison=comparison)

    async def _summary(self, query: ReportQuery, filter_names: tuple[str, ...]) -> ReportSummary:
        mkio = self.mkio

        async def load() -> ReportSummary:
            # Folded as it streams in: a million rows never sit in memory (nor block the loop).
            fold = ReportFold(query.granularity)
            await mkio.usage_report_rows(query, fold.add, max_rows=self._report_max_rows)
            return fold.summary(query, filter_names=filter_names, fetched_at=self._clock())

        return await self._cached(self._report_key(query), load)

    @staticmethod
    def _report_key(query: ReportQuery) -> str:
        return f"org:report:{query.model_dump_json()}"

    async def month_to_date(self, *, fresh: bool = False) -> ReportSummary:
        """Every project's cost this month so far (1st to tomorrow, UTC, by month); `fresh`
        drops the cached answer first (a Refresh button)."""
        query = ReportQuery.month_to_date(self._clock().date(), Granularity.MONTH)
        if fresh:
            await self._cache.invalidate(self._report_key(query))
        summary = await self.report(query, ())
        if self._metrics is not None:
            known_month(self._metrics, summary)
        return summary

    async def month_rows(self) -> list[SpendRow]:
        """This month so far by day, every project and meter: one report request. Not cached:
        the rows are many, and each budget check wants them as they are now."""
        query = ReportQuery.month_to_date(self._clock().date(), Granularity.DAY)
        rows: list[SpendRow] = []

        def add(batch: Sequence[ReportRow]) -> None:
            rows.extend(spend_rows(batch))

        await self.mkio.usage_report_rows(query, add, max_rows=self._report_max_rows)
        if self._metrics is not None:
            known_rows(self._metrics, rows, f"{query.start_date:%Y-%m}", self._clock())
        return rows

    async def budget_month(self, budgets: Sequence[Budget]) -> BudgetMonth:
        """What the budgets' month so far is read from, each source fetched once whatever the
        number of budgets: this month's org-wide report by day and the project list (for MK.IO
        scopes), Contro's summary of the month (for Contro types)."""
        today = self._clock().date()
        kinds = {b.scope for b in budgets}
        month = BudgetMonth(today)
        if kinds & MKIO_SCOPES:
            try:
                listed, rows = await asyncio.gather(self.mkio.list_projects(), self.month_rows())
            except Exception as error:  # each budget's check fails, and says why
                month = dataclasses.replace(month, mkio_error=error)
            else:
                projects = frozenset(p.name for p in listed)
                month = dataclasses.replace(month, rows=rows, projects=projects)
        if ScopeKind.CONTRO_TYPE in kinds:
            try:
                contro = (await self.contro_summary(f"{today:%Y-%m}")).summary
            except Exception as error:
                month = dataclasses.replace(month, contro_error=error)
            else:
                month = dataclasses.replace(month, contro=contro)
                types = frozenset(b.name for b in budgets if b.scope is ScopeKind.CONTRO_TYPE)
                month = await self._contro_days(month, contro, types)
        return month

    async def _contro_days(
        self, month: BudgetMonth, summary: UsageSummary, types: frozenset[str]
    ) -> BudgetMonth:
        """The Contro types' days for their forecast: the month's records, read once when
        there are few enough (the summary counts them); else why there is no forecast."""
        count = sum(item.count for item in summary.items)
        if count > CONTRO_FORECAST_MAX_RECORDS:
            why = (
                f"no estimate: Contro has {count:,} records this month, more than the "
                f"{CONTRO_FORECAST_MAX_RECORDS:,} read each hour to make one"
            )
            return dataclasses.replace(month, contro_no_forecast=why)
        records: list[UsageRecord] = []
        try:
            async for page in self.contro.iter_pages(summary.period):
                records += page.records
                if len(records) > CONTRO_FORECAST_MAX_RECORDS:  # more than the summary said
                    why = (
                        f"no estimate: Contro has more than {CONTRO_FORECAST_MAX_RECORDS:,} "
                        "records this month, more than are read each hour to make one"
                    )
                    return dataclasses.replace(month, contro_no_forecast=why)
        except Exception as error:  # the totals stand; only the estimate is missing
            log.warning("budget check: Contro's records not read (%s)", type(error).__name__)
            why = "no estimate: Contro's records could not be read just now"
            return dataclasses.replace(month, contro_no_forecast=why)
        return dataclasses.replace(month, contro_days=contro_spend_rows(records, types))

    async def report_csv(self, query: ReportQuery, dest: BinaryIO) -> int:
        """Stream the report's CSV into `dest`; the bytes written. Never cached: it is a file."""
        return await self.mkio.usage_report_csv(query, dest)

    async def rate_card(self, id_or_name: str) -> RateCardAnswer:
        mkio = self.mkio
        method = await self.find_payment_method(id_or_name, command=("ratecard",))

        async def load() -> RateCardAnswer:
            card = await mkio.rate_card(method.id)
            return RateCardAnswer(method=method, card=card, fetched_at=self._clock())

        return await self._cached(f"org:rate-card:{method.id}", load)

    async def project_payment_method(self, project: str) -> ProjectPaymentMethodAnswer:
        mkio = self.mkio

        async def load() -> ProjectPaymentMethodAnswer:
            method = await mkio.project_payment_method(project)
            return ProjectPaymentMethodAnswer(
                project=project, method=method, fetched_at=self._clock()
            )

        key = f"project:{project}:payment-method"
        return await self._of_project(project, "payment-method", self._cached(key, load))

    async def metrics(self, project: str, *, show_secrets: bool) -> MetricsAnswer:
        # Not cached: the answer may carry the endpoint password.
        endpoint = await self._of_project(project, "metrics", self.mkio.metrics_endpoint(project))
        return MetricsAnswer(
            project=project, endpoint=endpoint, show_secrets=show_secrets, fetched_at=self._clock()
        )

    async def reconcile(self, period: Period, project: str | None = None) -> Reconciliation:
        """`period`'s cost per project and meter against quantity × rate card, the drift
        between usage date and reported date, and (for the whole organization) Contro's
        summary against its records. Not cached: it is asked for on purpose.

        Two day-granularity reports (by usage date and by reported date, to tomorrow while
        the month runs) and Contro's check run at once; then the payment methods of
        projects whose rows do not name theirs, then the rate cards, each once."""
        mkio = self.mkio
        today = self._clock().date()
        start = period.range.start
        end = next_month_start(start)
        query = ReportQuery(
            start_date=start,
            end_date=min(end, today + timedelta(days=1)),
            granularity=Granularity.DAY,
            project_names=(project,) if project else (),
        )
        by_usage, by_reported = UsageFold(start, end), ReportedFold(start)
        (contro_check, contro_note), _, _ = await asyncio.gather(
            self._contro_check(str(period), provisional=end > today)
            if project is None
            else _none(),
            mkio.usage_report_rows(query, by_usage.add, max_rows=self._report_max_rows),
            mkio.usage_report_rows(
                query.model_copy(update={"filter_on_reported_date": True}),
                by_reported.add,
                max_rows=self._report_max_rows,
            ),
        )
        unnamed = by_usage.projects_without_method()
        assigned = dict(
            zip(unnamed, await asyncio.gather(*map(self._assigned_method, unnamed)), strict=True)
        )
        ids = sorted(by_usage.method_ids() | {m for m in assigned.values() if m})
        cards = dict(zip(ids, await asyncio.gather(*map(self._card_or_why, ids)), strict=True))
        return Reconciliation(
            period=str(period),
            start=start,
            end=end,
            project=project,
            lines=price_lines(by_usage, cards, assigned, DEFAULT_TOLERANCE),
            tolerance=DEFAULT_TOLERANCE,
            drift=drift_of(by_usage, by_reported),
            uncharged_days=tuple(sorted(by_usage.uncharged_days)),
            open_from=today if start <= today < end else None,
            fetched_at=self._clock(),
            contro=contro_check,
            contro_note=contro_note
            if project is None
            else "Contro has no projects: it is checked for the whole organization only.",
        )

    async def _assigned_method(self, project: str) -> str | None:
        try:
            return (await self.mkio.project_payment_method(project)).id
        except NotFound:
            return None

    async def _card_or_why(self, method_id: str) -> RateCard | str:
        try:
            return await self.mkio.rate_card(method_id)
        except UpstreamError as error:  # plain words: the renderer escapes `detail`
            said = f"answered {error.status}" if error.status else "did not answer"
            detail = f": {error.detail}" if error.detail else ""
            return f"rate card unavailable ({error.api} {said}{detail})"

    async def _contro_check(
        self, period: str, *, provisional: bool
    ) -> tuple[ControCheck | None, str | None]:
        """Contro's summary against the sum of its records, per type; or why not."""
        if self._contro is None:
            return None, "Contro is not configured (`CONTRO_API_KEY`)."
        contro = self._contro
        tally = RecordTally()

        async def records() -> None:
            async for page in contro.iter_pages(period, limit=MAX_LIMIT):
                tally.add((r.type, r.amount) for r in page.records)

        try:
            summary, _ = await asyncio.gather(contro.summary(period), records())
        except BillingBotError as error:
            return None, f"Contro could not be checked: {error.user_message}"
        return check_contro(summary, tally, provisional=provisional), None

    # -- Contro ---------------------------------------------------------------------------

    async def contro_summary(self, period: str) -> ControSummaryAnswer:
        contro = self.contro

        async def load() -> ControSummaryAnswer:
            return ControSummaryAnswer(
                summary=await contro.summary(period), fetched_at=self._clock()
            )

        return await self._cached(f"contro:summary:{period}", load)

    async def export_contro_records(
        self,
        period: str,
        type: str | None,
        dest: BinaryIO,
        on_progress: Callable[[ExportProgress], Awaitable[None]],
    ) -> tuple[ControExport, str | None]:
        """Every record of the period streamed into `dest` as CSV, and how the export differs
        from Contro's own summary for the period (None: it matches).

        Without a type, the summary comes first: its types are fetched as concurrent chains
        (`bot.core.exports`), and the export is reconciled with that same summary."""
        summary = await self.contro_summary(period) if type is None else None
        export = await export_contro_records(
            # every page is reported: the caller decides how often to show it
            self.contro,
            period,
            dest,
            type=type,
            types=[item.type for item in summary.summary.items] if summary else (),
            on_progress=on_progress,
            progress_every=0,
        )
        if summary is None:
            summary = await self.contro_summary(period)
        return export, reconcile(export, summary.summary)

    async def contro_records(self, ref: RecordsPageRef) -> ControRecordsAnswer:
        contro = self.contro

        async def load() -> ControRecordsAnswer:
            page = await contro.records_page(
                ref.period, type=ref.type, token=ref.token, limit=RECORDS_PAGE_SIZE
            )
            return ControRecordsAnswer(
                period=ref.period,
                type=ref.type,
                page=page,
                page_number=ref.page_number,
                token=ref.token,
                fetched_at=self._clock(),
                back=ref.back,
            )

        key = f"contro:records:{ref.period}:{ref.type}:{ref.token}:{ref.page_number}"
        answer = await self._cached(key, load)
        if ref.type and ref.page_number == 1 and not answer.page.records:
            await self.check_contro_type(ref.period, ref.type)
        return answer

    async def check_contro_type(self, period: str, kind: str) -> None:
        """Refused, naming the period's types, when Contro's summary of `period` has types
        and `kind` is not one of them (Contro's types are an open set; its summary, which an
        export reconciles with anyway, lists those in use)."""
        types = tuple(item.type for item in (await self.contro_summary(period)).summary.items)
        if not types or kind.lower() in (t.lower() for t in types):
            return
        near = nearest(kind, types)
        shown = ", ".join(f"`{quote(t)}`" for t in types[:15])
        said = f"Contro has no usage type `{quote(kind)}` in {period}. Its types: {shown}."
        if near:
            said += " Did you mean " + " or ".join(f"`{quote(n)}`" for n in near) + "?"
        command = ("contro", "records", period, "type", near[0]) if near else None
        raise CommandError(said, render_command(command) if command else None)
