"""gunicorn settings used by the benchmarks for every server they start (the same for all views).

``preload_app`` imports Django once before forking; ``gc.freeze()`` then moves everything loaded so
far out of the collector's generations, so full collections no longer walk Django's own objects.
The README's production notes recommend the same for a store's web servers.
"""
import gc

preload_app = True


def when_ready(server):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    gc.freeze()


def post_fork(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    gc.freeze()
