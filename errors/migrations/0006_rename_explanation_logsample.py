from django.db import migrations, models


class Migration(migrations.Migration):
    """Explanation held WMStats log samples: it is named for what it holds now."""

    dependencies = [
        ("errors", "0005_imported_kind"),
        ("workflows", "0001_initial"),
    ]

    operations = [
        migrations.RenameModel(old_name="Explanation", new_name="LogSample"),
        migrations.RenameIndex(
            model_name="logsample",
            new_name="errors_logs_step_id_b6e9e4_idx",
            old_name="errors_expl_step_id_247e86_idx",
        ),
        migrations.AlterField(
            model_name="logsample",
            name="step",
            field=models.ForeignKey(
                on_delete=models.deletion.CASCADE, related_name="log_samples", to="workflows.step"
            ),
        ),
    ]
