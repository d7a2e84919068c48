from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="RateLimitCounter",
            fields=[
                (
                    "cache_key",
                    models.CharField(max_length=255, primary_key=True, serialize=False),
                ),
                ("value", models.BigIntegerField()),
                ("expires", models.FloatField(db_index=True)),
            ],
            options={
                "db_table": "ratelimit_counter",
            },
        ),
    ]
