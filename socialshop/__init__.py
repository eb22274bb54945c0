"""socialshop: shoppable posts, product feeds, first-party tracking and retargeting for a Django store."""
__version__ = "0.1.0"
