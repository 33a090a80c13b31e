"""Not the product: the billing sandbox, the local Slack stand-in, the demo console."""
