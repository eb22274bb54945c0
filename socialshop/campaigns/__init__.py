"""Retargeting campaigns (issue #16): models, targeting, incentives and the landing link."""
