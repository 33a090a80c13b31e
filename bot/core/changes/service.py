"""Previews, confirmations and cancellations of billing changes (see `bot.core.changes.model`)."""

from __future__ import annotations

import logging

from bot.apis.mkio.models import Granularity, MetricsEndpoint, PaymentMethod, ReportQuery
from bot.clock import Clock
from bot.core.billing import BillingService
from bot.core.changes.audit import audit_line
from bot.core.changes.model import (
    CONFIRMATION_TTL,
    ChangeKind,
    ChangeStatus,
    Claim,
    MethodRef,
    MetricsPreview,
    MetricsPricing,
    Outcome,
    PaymentMethodPreview,
    PendingChange,
    PendingStore,
    already_assigned,
    compare_prices,
    metrics_prices,
    new_change_id,
)
from bot.errors import BillingBotError, CommandError, NotFound, UpstreamError
from bot.money import Totals

log = logging.getLogger(__name__)
audit_log = logging.getLogger("billing_bot.audit")

CUT_OFF = "the bot stopped before MK.IO made the change"


class ChangeService:
    def __init__(
        self,
        billing: BillingService,
        store: PendingStore,
        clock: Clock,
        *,
        admins: frozenset[str],
    ) -> None:
        self._billing = billing
        self._store = store
        self._clock = clock
        self._admins = admins

    async def _current_method(self, project: str) -> PaymentMethod | None:
        try:
            return await self._billing.mkio.project_payment_method(project)
        except NotFound:
            return None  # the project exists (checked first) but has no method yet

    def _pending(self, kind: ChangeKind, project: str, user: str, channel: str) -> PendingChange:
        now = self._clock()
        return PendingChange(
            id=new_change_id(),
            kind=kind,
            project=project,
            requested_by=user,
            channel=channel,
            requested_at=now,
            expires_at=now + CONFIRMATION_TTL,
        )

    async def preview_payment_method(
        self, project: str, method: str, *, user: str, channel: str
    ) -> PaymentMethodPreview:
        await self._billing.require_project(project, help_topic="payment-method")
        new = await self._billing.find_payment_method(
            method, command=("payment-method", project, "set")
        )
        current = await self._current_method(project)
        if current is not None and current.id == new.id:
            raise already_assigned(project, new)

        mkio = self._billing.mkio
        today = self._clock().date()
        month = ReportQuery.month_to_date(today, Granularity.MONTH, projects=(project,))
        report = await mkio.usage_report(month)
        new_card = (await self._billing.rate_card(new.id)).card
        current_card = (
            (await self._billing.rate_card(current.id)).card if current and current.id else None
        )
        prices = compare_prices(
            [(r.meter_name, r.meter_sku, r.quantity, r.unit) for r in report.value],
            current_card,
            new_card,
            start=month.start_date,
            end=month.end_date,
            billed_so_far=Totals.of(r.cost_money for r in report.value),
        )
        change = self._pending(ChangeKind.PAYMENT_METHOD, project, user, channel).model_copy(
            update={
                "before_method": MethodRef.of(current) if current else None,
                "after_method": MethodRef.of(new),
            }
        )
        await self._store.add(change)
        return PaymentMethodPreview(change=change, current=current, new=new, prices=prices)

    async def preview_metrics(self, project: str, *, user: str, channel: str) -> MetricsPreview:
        endpoint = await self._billing.mkio.metrics_endpoint(project)
        if endpoint.spec.enabled:
            raise CommandError(
                f"Metrics export is already on for `{project}`.",
                suggestion=f"/billing metrics {project}",
            )
        pricing = await self._metrics_pricing(project)
        change = self._pending(ChangeKind.METRICS, project, user, channel).model_copy(
            update={"metrics_enabled_before": False}
        )
        await self._store.add(change)
        return MetricsPreview(change=change, pricing=pricing)

    async def _metrics_pricing(self, project: str) -> MetricsPricing | None:
        """What the project's rate card charges for metrics export; None when there is no
        card to read (no payment method, or MK.IO would not say): the preview stands without."""
        try:
            method = await self._current_method(project)
            if method is None or not method.id:
                return None
            card = (await self._billing.rate_card(method.id)).card
        except BillingBotError as error:
            log.info("metrics preview for %s: no rate card (%s)", project, type(error).__name__)
            return None
        return MetricsPricing(method.name, card.spec.currency, metrics_prices(card))

    async def confirm(self, change_id: str, *, user: str) -> Outcome:
        # Rights are those of now, not of the preview: a user removed from BILLING_ADMINS since
        # (a restart, or another replica's settings) confirms nothing.
        if user not in self._admins:
            return Outcome(change=None, refused="not-admin")
        claim = await self._store.claim(
            change_id, user=user, now=self._clock(), status=ChangeStatus.CONFIRMED
        )
        if not claim.won or claim.change is None:
            return await self._refused(claim)
        change = claim.change
        # The claim stored the write-ahead record (CONFIRMED); the log gets it too, before
        # MK.IO is called, whatever happens to the store or the process afterwards.
        audit_log.info(audit_line(change, intent=True))
        endpoint: MetricsEndpoint | None = None
        try:
            if change.kind is ChangeKind.PAYMENT_METHOD:
                final = await self._switch_method(change)
            else:
                final, endpoint = await self._enable_metrics(change)
        except UpstreamError as exc:
            final = change.model_copy(
                update={"status": ChangeStatus.FAILED, "error": exc.user_message, "ref": exc.ref}
            )
        except Exception:
            log.exception("billing change %s failed unexpectedly", change.id)
            final = change.model_copy(
                update={"status": ChangeStatus.FAILED, "error": "an unexpected error"}
            )
        try:
            await self._store.save(final)
        except Exception as exc:
            # The outcome is known here: it is still audited and told. The store keeps the
            # write-ahead record, which a later start or click reads back from MK.IO.
            log.error(
                "could not record the outcome of billing change %s in the store (%s)",
                change.id,
                type(exc).__name__,
            )
        if final.status is ChangeStatus.DONE:
            await self._billing.forget_project(change.project)
        return Outcome(change=final, endpoint=endpoint)

    async def _refused(self, claim: Claim) -> Outcome:
        """A click that may not act; on a change cut off mid-way, it records the outcome."""
        change = claim.change
        if change is not None and change.cut_off(self._clock()):
            recovered = await self.recover(change)
            if recovered is not None:
                return recovered
            change = await self._store.get(change.id) or change
        return Outcome(change=change, refused=claim.reason)

    async def unsettled(self) -> list[PendingChange]:
        """Changes recorded as being made: cut off, or still being made by some replica."""
        return await self._store.unsettled()

    async def recover(self, change: PendingChange) -> Outcome | None:
        """What became of `change`, cut off after its confirmation: read back from MK.IO and
        recorded. None when someone else recorded it first (they audit it)."""
        endpoint: MetricsEndpoint | None = None
        if change.kind is ChangeKind.PAYMENT_METHOD:
            current = await self._current_method(change.project)
            after = change.after_method.id if change.after_method else None
            made = current is not None and current.id == after
        else:
            endpoint = await self._billing.mkio.metrics_endpoint(change.project)
            made = endpoint.spec.enabled
        final = change.model_copy(
            update={
                "status": ChangeStatus.DONE if made else ChangeStatus.FAILED,
                "error": None if made else CUT_OFF,
                "recovered_at": self._clock(),
            }
        )
        if not await self._store.settle(final):
            return None
        if made:
            await self._billing.forget_project(change.project)
        return Outcome(change=final, endpoint=endpoint if made else None)

    async def _switch_method(self, change: PendingChange) -> PendingChange:
        # the new method is always one found by ID (`find_payment_method`)
        assert change.after_method is not None
        assert change.after_method.id is not None
        current = await self._current_method(change.project)
        expected = change.before_method.id if change.before_method else None
        if (current.id if current else None) != expected:
            now_using = current.name if current else "no payment method"
            return change.model_copy(
                update={
                    "status": ChangeStatus.STALE,
                    "error": f"since the preview, `{change.project}` changed to {now_using}",
                }
            )
        await self._billing.mkio.set_project_payment_method(change.project, change.after_method.id)
        return change.model_copy(update={"status": ChangeStatus.DONE})

    async def _enable_metrics(
        self, change: PendingChange
    ) -> tuple[PendingChange, MetricsEndpoint | None]:
        mkio = self._billing.mkio
        if (await mkio.metrics_endpoint(change.project)).spec.enabled:
            stale = change.model_copy(
                update={"status": ChangeStatus.STALE, "error": "export was turned on meanwhile"}
            )
            return stale, None
        endpoint = await mkio.enable_metrics_endpoint(change.project)
        return change.model_copy(update={"status": ChangeStatus.DONE}), endpoint

    async def cancel(self, change_id: str, *, user: str) -> Outcome:
        claim = await self._store.claim(
            change_id, user=user, now=self._clock(), status=ChangeStatus.CANCELLED
        )
        if not claim.won:
            return await self._refused(claim)
        return Outcome(change=claim.change)
