"""What the bot tells an operator about itself: Prometheus metrics (`metrics.Metrics`, one
registry per app, served at `GET /metrics`) and, with the `otel` extra, OpenTelemetry spans
(`tracing`). Slack-free and Slack-SDK-free, below `bot.apis` so every zone can record."""
