"""Hypothesis settings for the whole suite.

Tests check behaviour, not wall-clock time (speed is measured by the scripts in `bench/`), so
no property test has a deadline and none fails because its examples were slow to generate: a
slow but correct machine passes. Each test keeps its own `max_examples`.

- `default`: everyday runs; Hypothesis's defaults (random examples, failures remembered in
  `.hypothesis/`) without the timing.
- `ci`: loaded when `CI` is set (CI sets `CI=true`); Hypothesis's own `ci` profile (no example
  database, failures printed with a reproduction blob), spelled out so that it does not depend
  on the Hypothesis version: the same examples on every run (`derandomize`), no timing.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    settings.get_profile("default"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    settings.get_profile("ci"),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "default")
