"""The built-in billing sandbox: a deterministic fake of MK.IO's Management API and Contro's
partner usage API, served over real HTTP by aiohttp.

    sandbox = Sandbox(clock=lambda: datetime(2026, 3, 15, 12, tzinfo=UTC))
    runner, base = await start(sandbox)      # MK.IO at {base}/api/v1, Contro at {base}/v1
    ...
    await runner.cleanup()
"""

from bot.devtools.sandbox.core import Sandbox
from bot.devtools.sandbox.errors import ApiError
from bot.devtools.sandbox.recording import RecordedRequest
from bot.devtools.sandbox.server import SandboxOptions, create_app, serve_forever, start

__all__ = [
    "ApiError",
    "RecordedRequest",
    "Sandbox",
    "SandboxOptions",
    "create_app",
    "serve_forever",
    "start",
]
