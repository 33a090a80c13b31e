"""`billing-bot demo`: the production Bolt app, driven from a console.

Everything runs on 127.0.0.1 ephemeral ports: the built-in billing sandbox, a local stand-in
for Slack (`bot.devtools.fakeslack.LocalSlack`) and the bot's own HTTP server. A typed line
becomes what Slack would send over HTTP, signed: a `/billing` slash command, a button click, an
`@billing` mention or a direct message (Events API), the Home tab being opened, the "Billing
report" shortcut, or the submission of the report form filled in with `set` lines. What the
bot posts back to the stand-in is printed the way a user would read it.

- `demo`: start-up (the three servers, the banner); `loop`: the `Console` reading lines and
  printing replies; `stdin`: reading those lines; `transcript`: what a user sees of each call;
  `form`: the modal filled in with `set`; `text`: the small formatting helpers.
"""

from bot.devtools.console.demo import run_demo
from bot.devtools.console.form import OpenForm
from bot.devtools.console.loop import CONSOLE_HELP, Console
from bot.devtools.console.transcript import render_call

__all__ = ["CONSOLE_HELP", "Console", "OpenForm", "render_call", "run_demo"]
