"""Procedures for 8020, 8021 and 8028 (a file could not be opened or read): ACDC, and
the file name pulled from the logs with the `root://` regex.

The original tool added these in 2020 (CMSCompOps/WorkflowWebTools,
workflowwebtools/procedures.py); the texts are its own, word for word, including the
cause it copied from 92. Like 0002, a row an admin already has for one of these codes
is left as it is.
"""

from django.db import migrations

ROOT_FILE = r"(root://[-/\w\.]+\.root)"
CAUSE = "File was not found and fallback procedure also failed."

# (exit code, cause, normal procedure, additional procedure, match expression)
PROCEDURES = [
    (8020, CAUSE, "ACDC", "Check that the file exists", ROOT_FILE),
    (8021, CAUSE, "ACDC", "Check that the file exists", ROOT_FILE),
    (8028, CAUSE, "ACDC", "Check that the file exists", ROOT_FILE),
]


def fill(apps, schema_editor):
    Procedure = apps.get_model("errors", "Procedure")
    for code, cause, normal, additional, expression in PROCEDURES:
        Procedure.objects.get_or_create(
            exit_code=code,
            defaults={
                "cause": cause,
                "normal_procedure": normal,
                "additional_procedure": additional,
                "match_expression": expression,
            },
        )


def empty(apps, schema_editor):
    # Only the rows this migration wrote: an admin's own row for the code stays.
    Procedure = apps.get_model("errors", "Procedure")
    for code, cause, normal, additional, expression in PROCEDURES:
        Procedure.objects.filter(
            exit_code=code,
            cause=cause,
            normal_procedure=normal,
            additional_procedure=additional,
            match_expression=expression,
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("errors", "0003_sample_exit_code_and_dropped_steps")]

    operations = [migrations.RunPython(fill, empty)]
