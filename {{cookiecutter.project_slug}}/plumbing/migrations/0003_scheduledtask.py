from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("plumbing", "0002_unlogged_counters"),
    ]

    operations = [
        migrations.CreateModel(
            name="ScheduledTask",
            fields=[
                ("task", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("due", models.DateTimeField()),
                ("enqueued_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
    ]
