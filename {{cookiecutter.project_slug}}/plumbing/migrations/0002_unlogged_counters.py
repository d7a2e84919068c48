"""On PostgreSQL, the rate-limit counters skip the write-ahead log (an UNLOGGED table).

Every counted API request updates its counter; in a logged table each update writes WAL and its
commit waits for that WAL to reach disk. Counters are worth nothing after a crash (PostgreSQL
empties an unlogged table then, so limits count from zero again), and plumbing.counter_cache
never reads them from a replica, which could not. SQLite has no such tables: nothing to do there.
https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-UNLOGGED
"""

from django.db import migrations


def set_persistence(persistence):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model("plumbing", "RateLimitCounter")
        table = schema_editor.quote_name(model._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET {persistence}")

    return operation


class Migration(migrations.Migration):
    dependencies = [("plumbing", "0001_initial")]

    operations = [
        migrations.RunPython(set_persistence("UNLOGGED"), set_persistence("LOGGED")),
    ]
