"""Retargeting audiences: rules, set-based builds with history, identity, hashed uploads (docs/audiences.md)."""
