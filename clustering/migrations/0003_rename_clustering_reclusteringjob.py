from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):
    """The job row says what it is: one reclustering job (its state, then the fit it produced)."""

    dependencies = [
        ("clustering", "0002_delete_joblock"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel(old_name="Clustering", new_name="ReclusteringJob"),
    ]
