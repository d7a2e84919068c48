from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("plumbing", "0003_scheduledtask"),
    ]

    operations = [
        migrations.CreateModel(
            name="LoginLock",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "username",
                    models.CharField(
                        help_text="As counted: lower case.", max_length=150, unique=True
                    ),
                ),
                ("locked_at", models.DateTimeField(auto_now=True)),
                ("until", models.DateTimeField(help_text="The lock ends by itself then.")),
            ],
            options={
                "ordering": ["-locked_at"],
            },
        ),
    ]
