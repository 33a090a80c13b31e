import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.apis.mkio.models import RateCard
from bot.core.changes.model import (
    CONFIRMATION_TTL,
    MAKING_DEADLINE,
    ChangeKind,
    ChangeStatus,
    MemoryPendingStore,
    PendingChange,
    compare_prices,
)
from bot.money import Money, Totals

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
# (meter, sku, quantity, unit): the usage rows compare_prices takes
UsageRow = tuple[str, str | None, Decimal, str | None]


def change(**overrides: object) -> PendingChange:
    values: dict[str, object] = {
        "id": "c1",
        "kind": ChangeKind.METRICS,
        "project": "p",
        "requested_by": "U1",
        "channel": "C1",
        "requested_at": NOW,
        "expires_at": NOW + CONFIRMATION_TTL,
    }
    values.update(overrides)
    return PendingChange.model_validate(values)


async def test_only_one_of_many_concurrent_claims_wins() -> None:
    store = MemoryPendingStore()
    await store.add(change())
    claims = await asyncio.gather(
        *(store.claim("c1", user="U1", now=NOW, status=ChangeStatus.CONFIRMED) for _ in range(20))
    )
    assert sum(c.won for c in claims) == 1
    assert {c.reason for c in claims if not c.won} == {"decided"}


async def test_claims_are_refused_for_others_after_expiry_and_for_unknown_ids() -> None:
    store = MemoryPendingStore()
    await store.add(change())
    other = await store.claim("c1", user="U2", now=NOW, status=ChangeStatus.CONFIRMED)
    late = await store.claim(
        "c1", user="U1", now=NOW + timedelta(minutes=10), status=ChangeStatus.CONFIRMED
    )
    unknown = await store.claim("nope", user="U1", now=NOW, status=ChangeStatus.CONFIRMED)
    assert (other.won, other.reason) == (False, "not-yours")
    assert (late.won, late.reason) == (False, "expired")
    assert (unknown.won, unknown.change) == (False, None)
    stored = await store.get("c1")
    assert stored is not None
    assert stored.status is ChangeStatus.PENDING


async def test_a_pending_change_survives_json_for_a_shared_store() -> None:
    original = change(status=ChangeStatus.DONE, decided_by="U1", decided_at=NOW)
    assert PendingChange.model_validate_json(original.model_dump_json()) == original


def card(prices: list[dict[str, object]]) -> RateCard:
    return RateCard.model_validate(
        {"spec": {"currency": "USD", "rateCard": [{"family": "f", "prices": prices}]}}
    )


def test_prices_match_by_name_then_sku_and_say_when_there_is_none() -> None:
    current = card([{"name": "encode", "price": Decimal("0.01")}])
    new = card(
        [
            {"name": "advanced_sd(encode)", "sku": "SKU1", "price": Decimal("0.02")},
            {"name": "egress", "price": Decimal("0.5")},
        ]
    )
    rows: list[UsageRow] = [
        ("encode", "SKU1", Decimal("100"), "minutes"),
        ("encode", "SKU1", Decimal("50"), "minutes"),
        ("egress", None, Decimal("3"), "GB"),
    ]
    day = NOW.date()
    comparison = compare_prices(
        rows, current, new, start=day, end=day, billed_so_far=Totals.of([Money(Decimal(1), "USD")])
    )
    encode = next(m for m in comparison.meters if m.meter == "encode")
    assert encode.quantity == Decimal("150")
    assert (encode.current_cost, encode.new_cost) == (Decimal("1.50"), Decimal("3.00"))
    assert comparison.unpriced_current == ["egress"]
    assert comparison.unpriced_new == []
    assert comparison.current_total == Decimal("1.50")
    assert comparison.new_total == Decimal("4.50")


def test_the_difference_only_counts_meters_priced_on_both_cards() -> None:
    current = card([{"name": "a", "price": Decimal("1")}, {"name": "b", "price": Decimal("2")}])
    new = card([{"name": "a", "price": Decimal("1.5")}])
    rows: list[UsageRow] = [("a", None, Decimal("10"), None), ("b", None, Decimal("10"), None)]
    day = NOW.date()
    comparison = compare_prices(rows, current, new, start=day, end=day, billed_so_far=Totals())
    assert comparison.current_total == Decimal("30")
    assert comparison.new_total == Decimal("15")
    assert comparison.comparable == (Decimal("10"), Decimal("15"), 1)


async def test_only_a_confirmed_change_is_unsettled_and_settled_once() -> None:
    store = MemoryPendingStore()
    await store.add(change())
    await store.add(change(id="c2"))
    await store.claim("c1", user="U1", now=NOW, status=ChangeStatus.CONFIRMED)
    [unsettled] = await store.unsettled()
    assert unsettled.id == "c1"
    done = unsettled.model_copy(update={"status": ChangeStatus.DONE, "recovered_at": NOW})
    assert await store.settle(done)
    assert not await store.settle(done.model_copy(update={"status": ChangeStatus.FAILED}))
    assert await store.get("c1") == done
    assert not await store.settle(change(id="c2", status=ChangeStatus.DONE)), "still pending"
    assert await store.unsettled() == []


def test_a_confirmed_change_is_cut_off_once_its_making_time_has_passed() -> None:
    confirmed = change(status=ChangeStatus.CONFIRMED, decided_by="U1", decided_at=NOW)
    assert not confirmed.cut_off(NOW + MAKING_DEADLINE - timedelta(seconds=1))
    assert confirmed.cut_off(NOW + MAKING_DEADLINE)
    done = confirmed.model_copy(update={"status": ChangeStatus.DONE})
    assert not done.cut_off(NOW + timedelta(days=1))
