"""Text made safe for Slack's mrkdwn, without Slack: the one escaping function, shared by the
renderers, the command language and money's currency labels."""

__all__ = ["escape"]


def escape(text: str) -> str:
    """Escape `&`, `<` and `>` so an API string cannot become a mention, a link or a command."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
