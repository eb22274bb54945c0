"""A host project laid out exactly as Celery's "First steps with Django" guide says (tests/core uses it)."""
