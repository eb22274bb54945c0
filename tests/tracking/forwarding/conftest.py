"""Forwarding and outbox tests (socialshop/tracking/forwarding.py, outbox.py) use the platform fixtures:
the fake platform server and shareable event rows."""
from tests.platforms.conftest import fake, fake_server, make_event  # noqa: F401  (fixtures)
