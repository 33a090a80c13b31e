"""Where state lives across replicas: the store factory, Redis, dedupe."""
