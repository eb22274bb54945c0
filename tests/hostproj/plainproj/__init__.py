"""A host project with no Celery app at all: socialshop must run its work in the request."""
