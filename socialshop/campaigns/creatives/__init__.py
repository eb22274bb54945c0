"""Ad creatives drawn with Pillow (issue #17): fonts.py (scripts and covering fonts), text.py (fitting text
in any script), contrast.py (WCAG AA), content.py (what an ad says), render.py (drawing one ad),
sources.py (product photo and logo), builder.py (a campaign's creatives in storage). Docs: docs/campaigns.md.
"""
