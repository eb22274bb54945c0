"""Ad platforms (Meta, Google, Pinterest, TikTok): one module each behind ``HttpPlatform``.

``REGISTRY`` lists them explicitly; see ../shared STYLE and docs/platforms/.
"""
