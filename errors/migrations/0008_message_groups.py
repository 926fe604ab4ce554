import django.db.models.deletion
from django.db import migrations, models

from errors.messages import group_samples


def group_stored_samples(apps, schema_editor):
    """The log samples stored before groups existed get theirs now, as a fetch would store
    them (errors.log_samples.store_message_groups), one workflow at a time."""
    LogSample = apps.get_model("errors", "LogSample")
    MessageGroup = apps.get_model("errors", "MessageGroup")
    workflow_ids = LogSample.objects.values_list("step__workflow_id", flat=True).distinct().order_by()
    for workflow_id in list(workflow_ids):
        samples = list(LogSample.objects.filter(step__workflow_id=workflow_id).order_by("id"))
        groups = group_samples(
            (s.exit_code if s.sample_exit_code is None else s.sample_exit_code, s.site, s.details)
            for s in samples
        )
        MessageGroup.objects.bulk_create(
            [
                MessageGroup(
                    workflow_id=workflow_id,
                    exit_code=group.exit_code,
                    message=group.message,
                    message_key=group.key,
                    samples=len(group.samples),
                    sites=len(set(group.sites)),
                    shown_samples=[samples[position].pk for position in group.shown()],
                )
                for group in groups
            ],
            batch_size=1000,
        )


class Migration(migrations.Migration):
    """Log samples grouped by (exit code, masked message), for the workflow page and the
    top-messages page; samples already stored are grouped here."""

    dependencies = [
        ("errors", "0007_no_redundant_step_index"),
        ("workflows", "0003_recovery_locations"),
    ]

    operations = [
        migrations.CreateModel(
            name="MessageGroup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("exit_code", models.IntegerField()),
                (
                    "message",
                    models.TextField(
                        help_text="The masked message, at most errors.messages.MESSAGE_CHARS characters"
                    ),
                ),
                (
                    "message_key",
                    models.CharField(
                        help_text="errors.messages.message_key(exit_code, message)", max_length=16
                    ),
                ),
                ("samples", models.PositiveIntegerField()),
                ("sites", models.PositiveIntegerField(help_text="Distinct sites of the samples")),
                ("shown_samples", models.JSONField(default=list)),
                (
                    "workflow",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="message_groups",
                        to="workflows.workflow",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["message_key", "workflow"], name="errors_mess_message_60cc7c_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("workflow", "message_key"), name="unique_workflow_message"
                    )
                ],
            },
        ),
        migrations.RunPython(group_stored_samples, migrations.RunPython.noop),
    ]
