"""Stand-in browser scripts for the four platform tags: the demo ships them (shop_demo/fakepixels.py)."""
from shop_demo.fakepixels import GTAG, META, PATHS, PINTEREST, TIKTOK, install

__all__ = ["GTAG", "META", "PATHS", "PINTEREST", "TIKTOK", "install"]
