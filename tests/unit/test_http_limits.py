"""bot.apis.http bounds what an API sends where it enters: numbers, body size, time per call."""

from __future__ import annotations

import asyncio
import io
import zlib
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from pydantic import BaseModel

from bot.apis.http import Api, ApiClient, Limits, OutOfBounds, RetryPolicy, loads
from bot.errors import Unavailable

API = Api("Example", "key", "EXAMPLE_KEY", "check the key.")
BASE = "https://api.example.test/v1"
MIB = 1024 * 1024


def client(
    handler: httpx.MockTransport, limits: Limits, policy: RetryPolicy | None = None
) -> ApiClient:
    return ApiClient(
        API, BASE, {}, transport=handler, retry=policy or RetryPolicy.immediate(), limits=limits
    )


# -- numbers --------------------------------------------------------------------------------

HOSTILE_NUMBERS = [
    "1e-30000000",
    "1e999999",
    "-1E+101",
    "1e-101",
    "0e-500",
    "1" * 10_000,
    "0." + "1" * 10_000,
    "1" * 51,
    "1." + "0" * 60,
]


@pytest.mark.parametrize("literal", HOSTILE_NUMBERS, ids=lambda s: s[:16])
def test_numbers_beyond_the_bounds_are_never_made_decimals(literal: str) -> None:
    assert isinstance(loads(f'{{"price": {literal}}}')["price"], OutOfBounds)


@pytest.mark.parametrize(
    "literal", ["-12.50", "1e-5", "0.000001", "1E+100", "123456789012345678901234567890", "0"]
)
def test_ordinary_numbers_are_read_exactly(literal: str) -> None:
    value = loads(f"[{literal}]")[0]
    assert value == Decimal(literal)
    assert not isinstance(value, float)


class Price(BaseModel):
    name: str
    price: Decimal


async def test_a_json_number_out_of_bounds_is_an_answer_the_bot_could_not_read() -> None:
    body = b'{"name":"m","price":1e-30000000}'
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    api = client(transport, Limits())
    answer = await api.read("GET", "/card")
    with pytest.raises(Unavailable) as info:
        api.validate(Price, answer.data, answer)
    text = info.value.user_message
    assert "Example sent an answer the bot could not read (HTTP 200)" in text
    assert "more than 50 digits or an exponent beyond ±100" in text


async def test_a_number_out_of_bounds_in_a_field_the_bot_ignores_is_no_obstacle() -> None:
    body = b'{"name":"m","price":"0.0035","extra":1e-30000000,"more":[NaN, 1e999999]}'
    transport = httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    api = client(transport, Limits())
    answer = await api.read("GET", "/card")
    assert api.validate(Price, answer.data, answer).price == Decimal("0.0035")


class Cost(BaseModel):
    cost: Decimal


def test_a_number_sent_as_a_string_is_bounded_too() -> None:
    api = ApiClient(API, BASE, {})
    assert api.validate(Cost, {"cost": "-12.50"}).cost == Decimal("-12.50")
    with pytest.raises(Unavailable) as info:
        api.validate(Cost, {"cost": "1e-30000000"})
    assert "exponent beyond ±100" in info.value.user_message


# -- size -----------------------------------------------------------------------------------


class Bomb(httpx.AsyncByteStream):
    """A gzip body inflating to `size` bytes, made and sent 64 KiB of output at a time;
    `sent` counts the compressed chunks the client pulled."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sent = 0
        self.chunks = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = b'{"value": [' + b" " * (MIB - 11)
        for _ in range(self.size // MIB):
            chunk = packer.compress(block)
            block = b" " * MIB
            if chunk:
                self.sent += 1
                yield chunk
        self.sent += 1
        yield packer.flush()

    async def aclose(self) -> None:
        pass


async def test_a_compression_bomb_is_stopped_early_with_a_clear_error() -> None:
    bomb = Bomb(200 * MIB)
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, headers={"content-encoding": "gzip"}, stream=bomb)
    )
    api = client(transport, Limits(json_bytes=2 * MIB))
    with pytest.raises(Unavailable) as info:
        await api.read("GET", "/usage")
    assert info.value.user_message.startswith(
        "Example's answer was larger than the bot accepts (2 MB), so the bot stopped reading it."
    )
    assert info.value.code == "too_large"
    assert bomb.sent < 10, "reading stopped soon after the cap, not at the end of the body"


async def test_a_plain_body_over_the_cap_is_refused_and_one_under_it_is_read() -> None:
    body = b'{"value": "' + b"x" * 2000 + b'"}'
    transport = httpx.MockTransport(lambda r: httpx.Response(200, stream=httpx.ByteStream(body)))
    assert (await client(transport, Limits(json_bytes=len(body))).read("GET", "/x")).data
    with pytest.raises(Unavailable, match=r"larger than the bot accepts \(1\.95 KB\)"):
        await client(transport, Limits(json_bytes=2000)).read("GET", "/x")


async def test_a_streamed_file_has_its_own_larger_cap() -> None:
    body = b"a,b\r\n" * 1000  # 5000 bytes: over the JSON cap, under the file cap
    transport = httpx.MockTransport(lambda r: httpx.Response(200, stream=httpx.ByteStream(body)))
    dest = io.BytesIO()
    limits = Limits(json_bytes=1000, file_bytes=6000)
    assert await client(transport, limits).stream_to("POST", "/report", dest) == len(body)
    assert dest.getvalue() == body
    with pytest.raises(Unavailable, match="larger than the bot accepts"):
        await client(transport, Limits(file_bytes=4000)).stream_to("POST", "/r", io.BytesIO())


# -- time -----------------------------------------------------------------------------------


class Drip(httpx.AsyncByteStream):
    """Headers at once, then one byte of body every five seconds, for ever."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            yield b" "
            await asyncio.sleep(5)

    async def aclose(self) -> None:
        pass


async def test_a_dripped_body_ends_at_the_deadline() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, stream=Drip()))
    with pytest.raises(Unavailable) as info:
        await client(transport, Limits(json_seconds=0.2)).read("GET", "/usage")
    assert info.value.user_message == "Example did not answer within 0.2 s — try again in a minute."
    assert info.value.code == "timeout"


async def test_a_dripped_file_ends_at_its_own_deadline() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, stream=Drip()))
    api = client(transport, Limits(json_seconds=0.1, file_seconds=0.3))
    with pytest.raises(Unavailable, match=r"did not answer within 0\.3 s"):
        await api.stream_to("POST", "/report", io.BytesIO())


async def test_retries_and_their_waits_happen_within_the_deadline() -> None:
    calls: list[httpx.Request] = []

    def busy(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, headers={"Retry-After": "5"})

    # Three tries with up to 5 s between them would take 10 s: the deadline ends it.
    policy = RetryPolicy(tries=3, max_wait=5.0, max_total_wait=10.0)
    api = client(httpx.MockTransport(busy), Limits(json_seconds=0.2), policy)
    with pytest.raises(Unavailable, match=r"did not answer within 0\.2 s"):
        await api.read("GET", "/usage")
    assert len(calls) == 1


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressed_answers_the_bot_asks_for_are_read(encoding: str) -> None:
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    body = packer.compress(b'{"price": -12.50}') + packer.flush()
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, headers={"content-encoding": encoding}, stream=httpx.ByteStream(body)
        )

    answer_ = await client(httpx.MockTransport(answer), Limits()).read("GET", "/x")
    assert answer_.data == {"price": Decimal("-12.50")}
    assert seen[0].headers["accept-encoding"] == "gzip, deflate"


async def test_an_encoding_the_bot_did_not_ask_for_is_unreadable() -> None:
    transport = httpx.MockTransport(
        lambda r: httpx.Response(
            200, headers={"content-encoding": "br"}, stream=httpx.ByteStream(b"\x0b\x02\x80")
        )
    )
    with pytest.raises(Unavailable, match="could not read"):
        await client(transport, Limits()).read("GET", "/x")
