"""Database transactions that read and then write, safe beside other processes on any database.

On SQLite a transaction begins *deferred* unless the project sets ``"transaction_mode": "IMMEDIATE"``
(Django 5.1+). A deferred transaction that has read and then writes fails at once with "database
is locked" when another process (a worker, cron's ``socialshop_run_due``, a web request) wrote in
between: SQLite cannot wait there without risking a deadlock, so the busy timeout does not apply.
``writing()`` makes socialshop's own read-then-write transactions take the write lock with their
first statement, where SQLite does wait (the busy timeout), whatever mode the host chose.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction


@contextmanager
def writing(using: str | None = None) -> Iterator[None]:
    """``transaction.atomic()`` that holds the database's write lock from its first statement.

    Only the outermost block on SQLite does anything more than ``atomic()``: its first statement is
    a write that changes no row (``UPDATE … WHERE 1 = 0`` still takes SQLite's write lock), so it
    waits for another process's write to finish instead of failing later. Inside an outer
    transaction, or on PostgreSQL (row locks, ``select_for_update``), it is ``atomic()``.
    """
    from socialshop.core.models import JobLock

    alias = using or transaction.DEFAULT_DB_ALIAS
    connection = connections[alias]
    with transaction.atomic(using=alias):
        if connection.vendor == "sqlite" and len(connection.atomic_blocks) == 1:
            table = connection.ops.quote_name(JobLock._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET name = name WHERE 1 = 0")
        yield
