"""The billing APIs' clients and their models: httpx at the edge, nothing Slack."""
