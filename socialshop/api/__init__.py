"""The REST API for headless storefronts and tooling: one resource per concern under /socialshop/api/."""
