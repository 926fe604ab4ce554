import secrets

from django.db import migrations, models


def create_version(apps, schema_editor):
    apps.get_model("actions", "ServedVersion").objects.create(pk=1, token=secrets.token_hex(16))


class Migration(migrations.Migration):

    dependencies = [
        ('actions', '0008_withdrawal'),
    ]

    operations = [
        migrations.CreateModel(
            name='ServedVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.CharField(max_length=32)),
            ],
        ),
        migrations.RunPython(create_version, migrations.RunPython.noop),
    ]
