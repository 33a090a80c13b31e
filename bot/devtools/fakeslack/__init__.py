"""A small local stand-in for Slack, over real HTTP on loopback: for end-to-end tests and the demo.

- `LocalSlack` impersonates the Slack Web API (point `AsyncWebClient(base_url=...)` at
  `api_url`), the `response_url` endpoints and the file upload URLs, and records every call.
- `SlackSender` sends the bot what Slack would: signed slash commands, `block_actions` clicks
  built from the buttons the bot actually rendered (in messages and in the Home tab), Events
  API envelopes (mentions, DMs, the Home tab opened), shortcuts and modal submissions.
- `message_text` and `buttons` show a message the way a user would see it; `view_state` fills
  in a modal the way a user would.

Nothing here logs request headers: the bot token arrives in `Authorization`.

- `server`: `LocalSlack`; `files`: the uploads it keeps; `calls`: `SlackCall`, what it records;
  `limits`: Slack's limits it enforces; `workspace`: the demo team's IDs and objects;
  `sender`: `SlackSender`; `reading`: a message as text; `views`: a modal filled in.
"""

from bot.devtools.fakeslack.calls import SlackCall
from bot.devtools.fakeslack.reading import buttons, message_text, wide_code_lines
from bot.devtools.fakeslack.sender import SentRequest, SlackSender
from bot.devtools.fakeslack.server import LocalSlack
from bot.devtools.fakeslack.views import element_options, input_blocks, view_state
from bot.devtools.fakeslack.workspace import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_DOMAIN",
    "LocalSlack",
    "SentRequest",
    "SlackCall",
    "SlackSender",
    "buttons",
    "element_options",
    "input_blocks",
    "message_text",
    "view_state",
    "wide_code_lines",
]
