"""A plain Bolt for Python app, written the way Slack's samples are: the yardstick for
bench/burst.py, never a way to run billing-bot.

    python bench/plain_bolt_app.py [--host 127.0.0.1] [--port 3000] [--style ack-after|respond]

One `/billing` listener calls MK.IO or Contro with httpx inside the listener, then answers:

- `ack-after` (default): the API call first, then `await ack(text)`: the answer is the ack;
- `respond`: `await ack()` first, then the API call, then `await respond(text)`.

Nothing else: no cache, no single flight, no retries; one httpx client for the app, with
httpx's defaults (a pool of up to 100 connections) and a 10 s timeout. It understands
`usage <project>`, `ratecard <payment-method-id>`, `payment-method <project>` and
`contro summary [YYYY-MM]`; anything else gets a one-line help. `usage` makes its two calls
concurrently.

It reads the same variables as billing-bot: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
SLACK_API_URL, MKIO_API_URL, MKIO_TOKEN, CONTRO_API_URL, CONTRO_API_KEY.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

import httpx
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

Style = Literal["ack-after", "respond"]
STYLES: tuple[Style, ...] = ("ack-after", "respond")
API_TIMEOUT = httpx.Timeout(10.0)
HELP = (
    "Try `/billing usage <project>`, `/billing ratecard <payment-method-id>`, "
    "`/billing payment-method <project>` or `/billing contro summary [YYYY-MM]`."
)


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"plain_bolt_app: set {name}")
    return value


@dataclass(frozen=True)
class BillingApis:
    """Where MK.IO and Contro are, and the one httpx client that calls them."""

    http: httpx.AsyncClient
    mkio_url: str
    mkio_token: str
    contro_url: str
    contro_key: str

    @classmethod
    def from_env(cls) -> BillingApis:
        return cls(
            http=httpx.AsyncClient(timeout=API_TIMEOUT),
            mkio_url=required("MKIO_API_URL").rstrip("/"),
            mkio_token=required("MKIO_TOKEN"),
            contro_url=required("CONTRO_API_URL").rstrip("/"),
            contro_key=required("CONTRO_API_KEY"),
        )

    async def mkio(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.http.request(
            method,
            f"{self.mkio_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.mkio_token}"},
        )
        response.raise_for_status()
        return response.json()

    async def usage(self, project: str) -> str:
        today = datetime.now(UTC).date()
        report_body = {
            "startDate": today.replace(day=1).isoformat(),
            "endDate": (today + timedelta(days=1)).isoformat(),
            "granularity": "month",
            "projectNames": [project],
        }
        quantities, report = await asyncio.gather(
            self.mkio("GET", f"/projects/{quote(project, safe='')}/usage"),
            self.mkio("POST", "/organization/reports/usage", report_body),
        )
        meters = {row.get("meterName") for row in quantities.get("value", [])}
        total = sum((Decimal(str(row["cost"])) for row in report.get("value", [])), Decimal(0))
        return f"*{project}* this month: {len(meters)} meters, total {total:,.2f} USD"

    async def rate_card(self, method_id: str) -> str:
        card = await self.mkio(
            "GET", f"/organization/paymentMethods/{quote(method_id, safe='')}/rateCard"
        )
        groups = card.get("spec", {}).get("rateCard", [])
        prices = sum(len(group.get("prices", [])) for group in groups)
        return f"Rate card of `{method_id}`: {prices} prices"

    async def payment_method(self, project: str) -> str:
        method = await self.mkio("GET", f"/projects/{quote(project, safe='')}/paymentMethod")
        name = method.get("metadata", {}).get("displayName", "?")
        return f"*{project}* is billed to {name}"

    async def contro_summary(self, period: str | None) -> str:
        response = await self.http.get(
            f"{self.contro_url}/partner/usage/summary",
            params={"period": period} if period else None,
            headers={"x-contro-api-key": self.contro_key},
        )
        response.raise_for_status()
        summary: dict[str, Any] = response.json()
        items = summary.get("items", [])
        total = sum((Decimal(str(item["total"])) for item in items), Decimal(0))
        return f"Contro usage for {summary.get('period')}: {total:,.2f} USD in {len(items)} types"

    async def answer(self, text: str) -> str:
        """The reply to `/billing <text>`; API errors become a short line."""
        words = text.split()
        size = 2 if words[:1] and words[0].lower() == "contro" else 1
        verb, args = " ".join(words[:size]).lower(), words[size:]
        try:
            if verb == "usage" and len(args) == 1:
                return await self.usage(args[0])
            if verb == "ratecard" and len(args) == 1:
                return await self.rate_card(args[0])
            if verb == "payment-method" and len(args) == 1:
                return await self.payment_method(args[0])
            if verb == "contro summary" and len(args) <= 1:
                return await self.contro_summary(args[0] if args else None)
            return HELP
        except httpx.HTTPStatusError as error:
            return f":warning: The billing API answered {error.response.status_code}."
        except httpx.HTTPError as error:
            return f":warning: The billing API could not be reached ({type(error).__name__})."


def build_app(style: Style) -> AsyncApp:
    apis = BillingApis.from_env()
    client = AsyncWebClient(
        token=required("SLACK_BOT_TOKEN"),
        base_url=os.environ.get("SLACK_API_URL") or "https://slack.com/api/",
    )
    app = AsyncApp(client=client, signing_secret=required("SLACK_SIGNING_SECRET"))

    async def ack_after_the_call(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(await apis.answer(command.get("text") or ""))

    async def ack_then_respond(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        await respond(await apis.answer(command.get("text") or ""))

    listener = ack_after_the_call if style == "ack-after" else ack_then_respond
    app.command("/billing")(listener)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/plain_bolt_app.py", description="A plain Bolt app, for bench/burst.py."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--style", choices=STYLES, default="ack-after")
    args = parser.parse_args(argv)
    style: Style = "respond" if args.style == "respond" else "ack-after"
    build_app(style).start(port=args.port, host=args.host)  # aiohttp; stops on SIGTERM
    return 0


if __name__ == "__main__":
    sys.exit(main())
