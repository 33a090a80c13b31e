"""The Slack-free core: the command language, billing answers, reports, changes, schedules."""
