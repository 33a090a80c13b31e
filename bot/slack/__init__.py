"""The Slack adapter: the only zone that imports slack_bolt, slack_sdk or aiohttp."""
