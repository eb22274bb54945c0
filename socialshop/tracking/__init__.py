"""The store's own event record: the collector, server-side events, the outbox of deliveries."""
