"""Block Kit messages (slack-sdk models), one module per answer family; Slack's limits here."""
