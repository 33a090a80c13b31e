"""Benchmark: the cost of one hourly anomaly check for 100 projects × 15 meters.

    .venv/bin/python bench/anomaly_check.py [--repeat 5] [--projects 100] [--meters 15]

Runs `Watch.check` (`bot.core.watch.check`) as the scheduler does, with the real MK.IO and
Contro clients talking to an in-process stand-in (httpx.MockTransport) that answers the one
organization-wide day report (every project × meter × day of the 36 days the check reads:
54,000 rows by default) and Contro's records of the two months those days fall in (3,000 a
month, by pages of 100). Three spikes are planted on the last day; the rest is steady with
daily noise. Prints the upstream requests of one check beside their floor (one report; the
fewest pages that hold the records), and its time beside a floor: reading the same answers'
JSON alone, which no check can avoid.

Exit status: 0 when the requests are at their floor and the best time meets its target, 1
otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/anomaly_check.py` without the package installed
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bench.timing import parse_args  # noqa: E402
from bot.apis.contro.client import ControClient  # noqa: E402
from bot.apis.mkio.client import MkioClient  # noqa: E402
from bot.core.watch.anomalies import Rules, Series  # noqa: E402
from bot.core.watch.check import NoteKind, Watch  # noqa: E402
from bot.core.watch.lifecycle import Anomaly, MemoryAnomalyStore, Posted  # noqa: E402
from bot.core.watch.sources import contro_series, mkio_series  # noqa: E402

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 20)  # the check's last complete day
TARGET_SECONDS = 5.0
CONTRO_PER_MONTH = 3000
CONTRO_TYPES = ("transaction", "api_call", "card_issuance", "kyc", "payout", "dispute_fee")
PLANTED = 3


def report_rows(projects: int, meters: int, rules: Rules) -> list[dict[str, Any]]:
    rng = random.Random(13)
    first = DAY - timedelta(days=rules.new_lookback_days)
    rows: list[dict[str, Any]] = []
    for n in range((DAY - first).days + 1):
        day = first + timedelta(days=n)
        for p in range(projects):
            for m in range(meters):
                level = 100 + 37 * ((p * meters + m) % 23)
                quantity = level * 10 * (900 + rng.randrange(201)) // 1000
                if day == DAY and p < PLANTED and m == 0:
                    quantity *= 5  # a spike
                rows.append(
                    {
                        "date": f"{day}T00:00:00Z",
                        "dateProcessed": None,
                        "meterName": f"meter_{m:02d}",
                        "meterSku": f"SKU{m:04d}",
                        "family": "Video Processing",
                        "solution": f"Solution {m}",
                        "unit": "minutes",
                        "quantity": quantity,
                        "price": 0.1,
                        "cost": f"{quantity / 10:.2f}",
                        "currency": "USD",
                        "project": f"project-{p:03d}",
                        "paymentMethod": "6f1c2a9e-3b4d-4c8e-9a7f-2d5b8e0c1f34",
                    }
                )
    return rows


def contro_records(period: str) -> list[dict[str, Any]]:
    year, month = map(int, period.split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    return [
        {
            "id": f"usage_{period}_{i:06d}",
            "type": CONTRO_TYPES[i % len(CONTRO_TYPES)],
            "amount": 0.25 + (i % 7) / 4,
            "referenceId": f"ref_{i}",
            "billingPeriod": period,
            "createdAt": (start + timedelta(seconds=i * 28 * 86400 // CONTRO_PER_MONTH)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
        }
        for i in range(CONTRO_PER_MONTH)
    ]


class Upstream:
    """Both APIs' answers, made once; counts every request per path."""

    def __init__(self, projects: int, meters: int, rules: Rules) -> None:
        self.report = json.dumps(
            {"supplemental": {}, "value": report_rows(projects, meters, rules)}
        )
        self.records = {p: contro_records(p) for p in ("2026-10", "2026-11")}
        self.requests: Counter[str] = Counter()
        self.pages: list[bytes] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests[request.url.path] += 1
        if request.url.path.endswith("/organization/reports/usage"):
            return httpx.Response(200, content=self.report.encode(), headers=_JSON)
        period = request.url.params["period"]
        offset = int(request.url.params.get("cursor") or 0)
        limit = int(request.url.params["limit"])
        records = self.records.get(period, [])
        page = records[offset : offset + limit]
        more = offset + limit < len(records)
        body = {"data": page, "hasMore": more, "nextCursor": str(offset + limit) if more else None}
        content = json.dumps(body).encode()
        self.pages.append(content)
        return httpx.Response(200, content=content, headers=_JSON)

    def floor_requests(self) -> dict[str, int]:
        pages = sum(max(1, math.ceil(len(r) / 100)) for r in self.records.values())
        return {"MK.IO": 1, "Contro": pages}


_JSON = {"content-type": "application/json"}


async def one_check(upstream: Upstream, rules: Rules) -> tuple[int, Counter[str]]:
    upstream.requests.clear()
    transport = httpx.MockTransport(upstream.handle)
    mkio = MkioClient("https://mkio.test/api/v1", SecretStr("t"), transport=transport)
    contro = ControClient(
        "https://contro.test/v1", SecretStr("k"), transport=transport, requests_per_minute=None
    )

    async def from_mkio(first: date, last: date) -> list[Series]:
        return await mkio_series(mkio, last, rules, max_rows=10**6, first=first)

    async def from_contro(first: date, last: date) -> list[Series]:
        return await contro_series(contro, last, rules, first=first)

    async def alert(anomaly: Anomaly, channels: list[str]) -> tuple[Posted, ...]:
        return ()

    async def note(anomaly: Anomaly, kind: NoteKind) -> None:
        return None

    store = MemoryAnomalyStore()
    await store.set_channel("C_BENCH", True)
    watch = Watch(store, [("MK.IO", from_mkio), ("Contro", from_contro)], alert=alert, note=note)
    try:
        result = await watch.check(NOW)
    finally:
        await mkio.aclose()
        await contro.aclose()
    if result.errors:
        raise RuntimeError(f"the check could not read {result.errors}")
    return len(result.alerted), Counter(upstream.requests)


def reading_floor(upstream: Upstream) -> float:
    """Seconds to decode the answers' JSON alone (the pages as one check fetched them)."""
    started = time.perf_counter()
    json.loads(upstream.report)
    for page in upstream.pages:
        json.loads(page)
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    extra = list(argv if argv is not None else sys.argv[1:])
    projects, meters = 100, 15
    for flag in ("--projects", "--meters"):
        if flag in extra:
            at = extra.index(flag)
            value = int(extra[at + 1])
            projects, meters = (value, meters) if flag == "--projects" else (projects, value)
            del extra[at : at + 2]
    args = parse_args(extra, __file__, "Time one hourly anomaly check.", repeat=5)
    rules = Rules()
    upstream = Upstream(projects, meters, rules)
    rows = projects * meters * (rules.new_lookback_days + 1)
    records = sum(len(r) for r in upstream.records.values())
    runs: list[float] = []
    cpu: list[float] = []
    found, requests = 0, Counter[str]()
    for _ in range(args.repeat):
        upstream.pages.clear()
        started, started_cpu = time.perf_counter(), time.process_time()
        found, requests = asyncio.run(one_check(upstream, rules))
        runs.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    floor = reading_floor(upstream)
    mkio_made = sum(n for path, n in requests.items() if "reports/usage" in path)
    contro_made = sum(n for path, n in requests.items() if "partner/usage" in path)
    wanted = upstream.floor_requests()
    best, median = min(runs), statistics.median(runs)
    print(
        f"one hourly anomaly check: {projects} projects × {meters} meters "
        f"({rows:,} report rows over {rules.new_lookback_days + 1} days) "
        f"and {records:,} Contro records (Python {sys.version.split()[0]})"
    )
    print(f"  upstream requests  MK.IO {mkio_made} (floor {wanted['MK.IO']})")
    print(f"                     Contro {contro_made} (floor {wanted['Contro']}: pages of 100)")
    print(
        f"  time               best {best:.2f} s, median {median:.2f} s of {args.repeat} "
        f"(floor: reading the answers' JSON alone {floor:.2f} s; target {TARGET_SECONDS:g} s)"
    )
    print(f"  CPU                best {min(cpu):.2f} s (this process: the stand-in's answers too)")
    print(f"  anomalies found    {found} ({PLANTED} planted)")
    met = (
        mkio_made == wanted["MK.IO"]
        and contro_made == wanted["Contro"]
        and best <= TARGET_SECONDS
        and found == PLANTED
    )
    print("  met" if met else "  MISSED")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
