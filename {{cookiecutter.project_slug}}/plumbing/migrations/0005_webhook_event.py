from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("plumbing", "0004_login_lock"),
    ]

    operations = [
        migrations.CreateModel(
            name="WebhookEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "endpoint",
                    models.CharField(help_text="The receiving view's name.", max_length=100),
                ),
                (
                    "event_id",
                    models.CharField(
                        help_text="The provider's id, or the body's hash.", max_length=255
                    ),
                ),
                ("received_at", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("endpoint", "event_id"), name="webhook_event_once"
                    )
                ],
            },
        ),
    ]
