"""End-to-end tests: the real bot over HTTP against the sandbox and the local Slack."""

import pytest

# Helpers with asserts of their own (`Stack.ask`) report them as a test module would.
pytest.register_assert_rewrite("tests.e2e.stack")
