"""MK.IO Management API client (OpenAPI 0.19.25: tests/schemas/mkio-management-api.json).

Reads are retried on 429/500/503 and broken connections; the two billing changes
(`set_project_payment_method`, `enable_metrics_endpoint`) only on 429 and failed connects, so
a change is never sent twice once MK.IO may have acted on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, BinaryIO, Final, TypeVar

import httpx
from pydantic import BaseModel, SecretStr

from bot.apis.csvsafe import CsvNeutraliser, UnreadableCsv
from bot.apis.http import Api, ApiClient, Limits, RetryPolicy, path
from bot.apis.mkio.models import (
    MetricsEndpoint,
    PaymentMethod,
    Project,
    ProjectUsage,
    RateCard,
    ReportQuery,
    ReportRow,
    UsageReport,
)
from bot.apis.mkio.report_stream import ReportReader
from bot.observe.metrics import Metrics

M = TypeVar("M", bound=BaseModel)

MKIO: Final = Api(
    name="MK.IO",
    credential="token",
    variable="MKIO_TOKEN",
    refused_hint="check that the token is valid, not expired, and allowed to see this "
    "organization's billing.",
)

#: `@odata.nextLink` is followed at most this many times per list: a guard against loops.
MAX_PAGES: Final = 100

#: Requests in flight at once (MKIO_MAX_CONCURRENCY). MK.IO allows 2,000 reads a minute per
#: organization: 64 at a time stays under it whenever an answer takes 2 s or more, and a
#: burst past that queues in the bot instead of in httpx's pool.
MAX_CONCURRENCY: Final = 64

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


class MkioClient:
    def __init__(
        self,
        base_url: str,
        token: SecretStr,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
        limits: Limits | None = None,
        concurrency: int = MAX_CONCURRENCY,
        metrics: Metrics | None = None,
    ) -> None:
        secret = token.get_secret_value()
        self._api = ApiClient(
            MKIO,
            base_url,
            {"Authorization": f"Bearer {secret}", "Accept": "application/json"},
            secrets=(secret,),
            transport=transport,
            retry=retry,
            timeout=timeout,
            limits=limits,
            concurrency=concurrency,
            metrics=metrics,
        )

    @property
    def queued(self) -> int:
        """Requests waiting for a turn (`ApiClient.gate`)."""
        return self._api.gate.queued

    async def aclose(self) -> None:
        await self._api.aclose()

    async def __aenter__(self) -> MkioClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- projects and usage -----------------------------------------------------------------

    async def list_projects(self) -> list[Project]:
        return await self._list(Project, "/projects", what="projects")

    async def project_usage(self, project: str) -> ProjectUsage:
        return await self._get(
            ProjectUsage, path("/projects/{}/usage", project), what=f"project `{project}`"
        )

    async def usage_report(self, query: ReportQuery) -> UsageReport:
        answer = await self._api.read(
            "POST", "/organization/reports/usage", json=query.body(), what="usage report"
        )
        return self._api.validate(UsageReport, answer.data, answer)

    async def usage_report_rows(
        self,
        query: ReportQuery,
        on_rows: Callable[[Sequence[ReportRow]], object],
        *,
        max_rows: int,
    ) -> int:
        """Stream the JSON report, handing its rows to `on_rows` in batches as they arrive
        (`bot.apis.mkio.report_stream`); the number of rows. Bounded like the CSV report (size
        and deadline), and by `max_rows`: past it, `TooManyRows`."""
        reader = ReportReader(self._api, on_rows, max_rows=max_rows)
        await self._api.stream_chunks(
            "POST",
            "/organization/reports/usage",
            reader.feed,
            json=query.body(),
            what="usage report",
        )
        reader.close()
        return reader.rows

    async def usage_report_csv(self, query: ReportQuery, dest: BinaryIO) -> int:
        """Stream the CSV report into `dest`, every cell neutralised (`bot.apis.csvsafe`: no
        formula survives); the number of bytes written.

        On an error midway `dest` may hold part of the file: discard it.
        """
        sink = CsvNeutraliser(dest)
        try:
            await self._api.stream_to(
                "POST",
                "/organization/reports/usage",
                sink,
                json=query.body(csv=True),
                what="usage report",
            )
            sink.close()
        except UnreadableCsv as exc:
            raise self._api.unreadable(200, why=str(exc)) from None
        return sink.bytes_written

    # -- payment methods --------------------------------------------------------------------

    async def payment_methods(self) -> list[PaymentMethod]:
        return await self._list(
            PaymentMethod, "/organization/paymentMethods", what="payment methods"
        )

    async def rate_card(self, payment_method_id: str) -> RateCard:
        return await self._get(
            RateCard,
            path("/organization/paymentMethods/{}/rateCard", payment_method_id),
            what=f"payment method `{payment_method_id}`",
        )

    async def project_payment_method(self, project: str) -> PaymentMethod:
        return await self._get(
            PaymentMethod,
            path("/projects/{}/paymentMethod", project),
            what=f"project `{project}`, or no payment method assigned to it",
        )

    async def set_project_payment_method(self, project: str, payment_method_id: str) -> None:
        """Assign (replace) the project's payment method. A billing change: never retried
        once MK.IO may have acted. MK.IO answers 200 with no body."""
        await self._api.change(
            "POST",
            path("/projects/{}/paymentMethod", project),
            json={"paymentMethodId": payment_method_id},
            what=f"project `{project}` or payment method `{payment_method_id}`",
        )

    # -- metrics export ---------------------------------------------------------------------

    async def metrics_endpoint(self, project: str) -> MetricsEndpoint:
        # The connection details are masked in logs once shown
        # (`bot.slack.render.common.SecretText`),
        # not here: a member's question, or a value never shown, registers nothing.
        return await self._get(
            MetricsEndpoint,
            path("/projects/{}/metricsEndpoint", project),
            what=f"project `{project}`",
        )

    async def enable_metrics_endpoint(self, project: str) -> MetricsEndpoint:
        """Turn metrics export on (billable). A change: never retried once MK.IO may have acted."""
        answer = await self._api.change(
            "PATCH",
            path("/projects/{}/metricsEndpoint", project),
            json={"spec": {"enabled": True}},
            what=f"project `{project}`",
        )
        return self._api.validate(MetricsEndpoint, answer.data, answer)

    # -- helpers ----------------------------------------------------------------------------

    async def _get(self, model: type[M], url: str, *, what: str) -> M:
        answer = await self._api.read("GET", url, what=what)
        return self._api.validate(model, answer.data, answer)

    async def _list(self, model: type[M], url: str, *, what: str) -> list[M]:
        """Every item of an MK.IO list, following `@odata.nextLink` on the same origin only."""
        items: list[M] = []
        next_url: str | httpx.URL | None = url
        seen: set[str] = set()
        pages = 0
        while next_url is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise self._api.unavailable(
                    f"kept sending more pages of {what} (over {MAX_PAGES}); the bot stopped."
                )
            answer = await self._api.read("GET", next_url, what=what)
            data: Any = answer.data
            if not isinstance(data, dict) or not isinstance(data.get("value"), list):
                raise self._api.unreadable(answer.status, why="list without `value`")
            items.extend(self._api.validate(model, item, answer) for item in data["value"])
            link = data.get("@odata.nextLink")
            if link is None or link == "":
                break
            if not isinstance(link, str):
                raise self._api.unreadable(answer.status, why="`@odata.nextLink` not a string")
            next_url = self._follow(link, what)
            key = str(next_url)
            if key in seen:
                raise self._api.unavailable(
                    f"sent the same page of {what} twice; the bot stopped to avoid a loop."
                )
            seen.add(key)
        return items

    def _follow(self, link: str, what: str) -> httpx.URL:
        """The absolute next-page URL, only if it is on MK.IO's own scheme, host and port:
        the bearer token is never sent anywhere else."""
        base = self._api.base_url
        try:
            url = base.join(link)
        except httpx.InvalidURL:
            raise self._api.unreadable(200, why="invalid `@odata.nextLink`") from None
        if _origin(url) != _origin(base):
            raise self._api.unavailable(
                f"pointed the next page of {what} at another server ({url.host or '?'}); "
                "the bot does not send its token there."
            )
        return url


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    scheme = url.scheme.lower()
    return scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(scheme)
