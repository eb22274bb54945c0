"""The fake platform server for the tests: the demo ships it (shop_demo/fakeplatforms.py), the tests reuse it.

Platform APIs in tests are real HTTP to this server on 127.0.0.1 (ports 8300-8399).
"""
from shop_demo.fakeplatforms import CREDENTIALS, TEST_CODES, FakePlatforms, Fault, Invalid

__all__ = ["CREDENTIALS", "TEST_CODES", "FakePlatforms", "Fault", "Invalid"]
