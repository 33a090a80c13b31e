"""Injected failures: the next N matching requests fail in a chosen way."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["status", "reset", "hang", "malformed", "drip"]
FAULT_KINDS: tuple[FaultKind, ...] = ("status", "reset", "hang", "malformed", "drip")
MALFORMED_BODY = b'{"value": [{"meterName": "video_encoding_ondemand", "quantity": 1'
"""What a "malformed" fault answers: JSON cut short, sent as application/json. A "drip" fault
sends its `status` and headers at once, then its `body` (or this) one byte every `delay` s."""


@dataclass(slots=True)
class Fault:
    """Fail the next `times` requests whose method matches (None: any) and whose path starts
    with `path`, either the full path (`/api/v1/projects`) or the path under the API's base
    (`/projects`)."""

    method: str | None = None
    path: str = ""
    status: int = 500
    times: int = 1
    retry_after: str | None = None
    body: bytes | None = None
    kind: FaultKind = "status"
    delay: float = 0.0

    def matches(self, method: str, path: str, api_path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return path.startswith(self.path) or api_path.startswith(self.path)

    def to_json(self) -> dict[str, Any]:
        answer = asdict(self)
        answer["body"] = None if self.body is None else self.body.decode("utf-8", "replace")
        return answer


class FaultPlan:
    """Faults in the order they were added; the first match with uses left is taken."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if fault.times < 1:
            raise ValueError("times must be at least 1")
        if not 100 <= fault.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if fault.delay < 0:
            raise ValueError("delay must not be negative")
        self._faults.append(fault)

    def take(self, method: str, path: str, api_path: str) -> Fault | None:
        """The fault this request triggers, if any, using up one of its `times`."""
        for fault in self._faults:
            if fault.matches(method, path, api_path):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def pending(self) -> list[Fault]:
        return list(self._faults)

    def clear(self) -> None:
        self._faults.clear()
