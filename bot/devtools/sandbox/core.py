"""`Sandbox`: the state of one fake MK.IO org and Contro partner account, plus its controls."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, Literal

from aiohttp import web

from bot import access
from bot import clock as clock_module
from bot.devtools.sandbox import anomalies as anomaly_data
from bot.devtools.sandbox import catalog, reports
from bot.devtools.sandbox.contro_data import ControData, RecordFilter, is_period, period_of
from bot.devtools.sandbox.errors import ApiError
from bot.devtools.sandbox.faults import Fault, FaultKind, FaultPlan
from bot.devtools.sandbox.recording import RecordedRequest
from bot.devtools.sandbox.state import MkioState
from bot.devtools.sandbox.usage import UsageEngine

ControPagination = Literal["cursor", "page"]

# What the sandbox's token may do: the capabilities MK.IO's document says its endpoints require.
FULL_CAPABILITIES = (
    "core.project.get",
    "core.customer.get",
    "core.subscription.get",
    "core.subscription.create",
    "mkio.metrics.get",
    "mkio.metrics.update",
    "core.token.get",
)
# The id `GET /organization/tokens` lists the sandbox's token under, unless the token is a JWT
# naming its own (`jti`).
SANDBOX_TOKEN_ID = "5a1d8e0c-0000-4000-8000-000000000001"  # noqa: S105 - an id, not a secret
OTHER_TOKEN_ID = "5a1d8e0c-0000-4000-8000-000000000002"  # noqa: S105


class Sandbox:
    """A deterministic fake of both billing APIs' data, relative to `clock`.

    Construction is cheap: usage and records are computed when first asked for.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = clock_module.utc_now,
        seed: int = 7,
        mkio_token: str = "sandbox-mkio-token",  # noqa: S107 - a public sandbox credential
        contro_key: str = "sk_test_sandbox",
        contro_pagination: ControPagination = "cursor",
        mkio_page_size: int = 100,
        anomalies: bool = False,
    ) -> None:
        """`anomalies`: a spike, a drop, a new meter and a new Contro type on the day before
        now (`bot.devtools.sandbox.anomalies`); off, the data is as it always was."""
        if contro_pagination not in ("cursor", "page"):
            raise ValueError("contro_pagination must be 'cursor' or 'page'")
        if mkio_page_size < 1:
            raise ValueError("mkio_page_size must be at least 1")
        self.clock = clock
        self.seed = seed
        self.mkio_token = mkio_token
        self.contro_key = contro_key
        self.contro_pagination: ControPagination = contro_pagination
        self.mkio_page_size = mkio_page_size
        self.capabilities: list[str] = list(FULL_CAPABILITIES)
        """What `GET /user/rbac` answers the token has (`/_sandbox/rbac` changes it)."""
        self.mkio_token_expires: datetime | None = None
        """When `GET /organization/tokens` says the token expires; None: its JWT `exp`, or a
        year after the sandbox's start for a token that is not a JWT."""
        self.mkio_token_revoked = False
        self.revoked_contro_keys: set[str] = set()
        """Contro keys refused with a 401 (a rotation's old key); other `sk_test_` keys pass."""
        self.requests: list[RecordedRequest] = []
        self.held: list[RecordedRequest] = []
        """The requests waiting for `release()` now, in the order they arrived."""
        self.delay: float = 0.0
        self.faults = FaultPlan()
        self.state = MkioState(seed)
        self.anomaly_day: date | None = None
        self._anomaly_events: tuple[anomaly_data.UsageEvent, ...] = ()
        self._slow_events: tuple[anomaly_data.UsageEvent, ...] = ()
        self.usage = UsageEngine(seed, self.state)
        self.contro = ControData(seed)
        if anomalies:
            self.add_anomalies()
        self._refs = itertools.count(1)
        self._gate: asyncio.Event | None = None  # what held requests wait for, while holding
        self._held_changed = asyncio.Event()  # set (and replaced) whenever `held` changes

    def add_anomalies(self) -> date:
        """The anomalies to find, on the day before now (before any data is asked for: what
        was computed is forgotten). Returns their day."""
        day = self.anomaly_day = self.now().date() - timedelta(days=1)
        self._anomaly_events = anomaly_data.usage_events(day)
        self._remake_usage()
        self.contro = ControData(self.seed, anomaly_data.contro_records(day))
        return day

    def slow_down(self, project: str, *, days: int = 7, denominator: int = 10) -> date:
        """`project` used a `denominator`th of its usual from `days` days ago on (what was
        computed is forgotten): its month-end estimate falls, so a budget whose estimate had
        reached it recovers. Returns the first slow day."""
        definition = next((p for p in catalog.PROJECTS if p.name == project), None)
        if definition is None:
            raise ValueError(f"the sandbox has no project {project!r}")
        if days < 1 or denominator < 1:
            raise ValueError("days and denominator must be at least 1")
        start = self.now().date() - timedelta(days=days)
        self._slow_events += tuple(
            anomaly_data.UsageEvent(project, meter, start, None, denominator=denominator)
            for meter in definition.daily_units
        )
        self._remake_usage()
        return start

    def _remake_usage(self) -> None:
        self.usage = UsageEngine(self.seed, self.state, self._anomaly_events + self._slow_events)

    def now(self) -> datetime:
        """The clock's time in UTC (a naive clock value is taken as UTC)."""
        moment = self.clock()
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def next_ref(self) -> str:
        """A request reference for an error body, unique within this sandbox."""
        return f"sandbox-{self.seed}-{next(self._refs):06d}"

    # controls

    def add_fault(
        self,
        *,
        method: str | None = None,
        path: str = "",
        status: int = 500,
        times: int = 1,
        retry_after: str | None = None,
        body: bytes | None = None,
        kind: FaultKind = "status",
        delay: float = 0.0,
    ) -> None:
        """Make the next `times` matching requests fail; see `Fault`."""
        self.faults.add(Fault(method, path, status, times, retry_after, body, kind, delay))

    def hold(self) -> None:
        """Make every billing API request wait, once recorded, until `release()`.

        For tests of what happens *before* an API answers: a held request is in `requests`
        and in `held`, and gets no answer (nor its delay or fault) until it is released.
        The control plane is never held.
        """
        if self._gate is None:
            self._gate = asyncio.Event()

    def release(self) -> None:
        """Let the held requests, and every later one, go on. Does nothing if none is held."""
        if self._gate is not None:
            self._gate.set()
            self._gate = None

    @property
    def holding(self) -> bool:
        """Whether requests are held (between `hold()` and `release()`)."""
        return self._gate is not None

    async def wait_held(
        self,
        count: int = 1,
        *,
        path: str = "",
        timeout: float = 300.0,  # noqa: ASYNC109 - as `LocalSlack.wait_for`
    ) -> list[RecordedRequest]:
        """Wait until at least `count` requests whose path contains `path` are held; returns
        them. On timeout, raises TimeoutError saying what was held and what was received."""

        def matching() -> list[RecordedRequest]:
            return [r for r in self.held if path in r.path]

        try:
            async with asyncio.timeout(timeout):
                while len(matching()) < count:
                    await self._held_changed.wait()
        except TimeoutError:
            received = ", ".join(f"{r.method} {r.path}" for r in self.requests) or "nothing"
            raise TimeoutError(
                f"waited {timeout:g}s for {count} held request(s) to {path or 'any path'}, "
                f"found {len(matching())}; holding: {self.holding}; received: {received}"
            ) from None
        return matching()

    async def pass_gate(self, request: RecordedRequest) -> None:
        """Where the server makes a recorded request wait while requests are held."""
        gate = self._gate
        if gate is None:
            return
        self.held.append(request)
        self._changed()
        try:
            await gate.wait()
        finally:
            del self.held[next(i for i, r in enumerate(self.held) if r is request)]
            self._changed()

    def _changed(self) -> None:
        self._held_changed.set()
        self._held_changed = asyncio.Event()

    def clear(self) -> None:
        """Forget recorded requests and pending faults."""
        self.requests.clear()
        self.faults.clear()

    def set_contro_records(self, period: str, count: int) -> None:
        """Make `period` hold exactly `count` synthetic records (computed lazily by index)."""
        self.contro.set_records(period, count)

    # read-only helpers: the same data the HTTP answers are made of

    def project_names(self) -> list[str]:
        return [project.name for project in self.state.projects]

    def meter_names(self) -> list[str]:
        return list(catalog.METER_NAMES)

    def payment_method_ids(self) -> dict[str, str]:
        """Payment method display name -> id."""
        return {
            method.display_name: self.state.method_ids[key]
            for key, method in self.state.methods.items()
        }

    def payment_methods(self) -> list[dict[str, Any]]:
        """The items of `GET /organization/paymentMethods`."""
        return [self.state.payment_method_object(key) for key in self.state.methods]

    def projects(self) -> list[dict[str, Any]]:
        """The items of `GET /projects`."""
        return [self.state.project_object(project) for project in self.state.projects]

    def granted(self, capability: str) -> bool:
        """Whether the token has `capability` (a `*` in `capabilities` matches anything)."""
        return any(fnmatchcase(capability, pattern) for pattern in self.capabilities)

    def organization_tokens(self) -> dict[str, Any]:
        """What `GET /organization/tokens` answers: the sandbox's token and another user's."""
        now = self.now()
        claims = access.jwt_claims(self.mkio_token) or {}
        token_id = claims.get("jti")
        expires = (
            self.mkio_token_expires
            or access.jwt_expiry(self.mkio_token)
            or now + timedelta(days=365)
        )

        def item(
            token_id: str, user: str, description: str, expires: datetime, revoked: bool
        ) -> dict[str, Any]:
            return {
                "kind": "UserToken",
                "metadata": {"id": token_id, "type": "restricted"},
                "spec": {
                    "description": description,
                    "user": user,
                    "issued": (expires - timedelta(days=365)).isoformat(),
                    "expires": expires.isoformat(),
                    "lastUsed": now.date().isoformat(),
                    "revoked": now.isoformat() if revoked else None,
                    "permissions": {},
                },
            }

        return {
            "kind": "UserTokenList",
            "value": [
                item(
                    token_id if isinstance(token_id, str) else SANDBOX_TOKEN_ID,
                    "billing-bot@example.com",
                    "billing-bot",
                    expires,
                    self.mkio_token_revoked,
                ),
                # another user's, expiring soon: not the bot's to warn about
                item(OTHER_TOKEN_ID, "ops@example.com", "ops", now + timedelta(days=3), False),
            ],
        }

    def project_payment_method(self, project: str) -> dict[str, Any] | None:
        """What `GET /projects/{p}/paymentMethod` answers, or None when none is assigned."""
        key = self.state.project(project).method_key
        return None if key is None else self.state.payment_method_object(key)

    def rate_card(self, payment_method_id: str) -> dict[str, Any]:
        return self.state.rate_card(self.state.method_key(payment_method_id))

    def metrics_endpoint(self, project: str) -> dict[str, Any]:
        return self.state.metrics_object(self.state.project(project))

    def project_usage(self, project: str) -> dict[str, Any]:
        """What `GET /projects/{p}/usage` answers now."""
        return reports.project_usage(project, self.usage, self.state, self.now())

    def report_rows(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """What `POST /organization/reports/usage` returns in "value" for this JSON body.

        Numbers are floats exactly as the JSON carries them (their shortest repr is the exact
        decimal); `cost` is a string. Raises `ApiError` when the API would reject the body.
        """
        query = reports.parse_query(body, self.state)
        return [
            reports.meter_data(row, self.state)
            for row in reports.rows(query, self.usage, self.state, self.now())
        ]

    def current_period(self) -> str:
        return period_of(self.now())

    def contro_summary(self, period: str | None = None) -> dict[str, Any]:
        """What `GET /partner/usage/summary?period=` answers."""
        period = period or self.current_period()
        if not is_period(period):
            raise ApiError(400, "period must be in YYYY-MM format.", code="invalid_period")
        data = self.contro.period(period, self.now())
        return {"period": period, "items": [item.to_json() for item in data.summary()]}

    def contro_records(
        self, period: str | None = None, type_: str | None = None
    ) -> list[dict[str, Any]]:
        """Every record of a period (optionally of one type), in the order the API pages them."""
        data = self.contro.period(period or self.current_period(), self.now())
        selection = data.select(RecordFilter(type=type_))
        return [record.to_json() for record in selection.page(0, len(selection))]


SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
