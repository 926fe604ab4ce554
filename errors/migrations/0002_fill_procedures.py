"""Seed the recommended procedures per exit code (the original tool's table)."""

from django.db import migrations

# CMSCompOps/WorkflowWebTools, workflowwebtools/procedures.py, itself from the Workflow
# Traffic Controller twiki (Error_Codes_Mapping); texts kept word for word. The original's
# " |br| " line breaks are stored as "\n" (pages show them with |linebreaksbr). Where it
# gives no cause or no additional action, the field stays empty.
ROOT_FILE = r"(root://[-/\w\.]+\.root)"
TRANSFER_TEAM = (
    "If a second round of ACDC and fails for same files, contact the transfer team and/or site support team."
)
WALLCLOCK = "Job was killed by WMAgent for using too much wallclock time"
STRONG = "Strong failure, report immediately"

# (exit code, cause, normal procedure, additional procedure, match expression)
PROCEDURES = [
    (
        73,
        "RootEmbeddedFileSequence: secondary file list seems to be missing.\n\n"
        "When overflow procedure is enables, the agent should be able to see the secondary file set "
        "as present at those sites as well.",
        "Open a GitHub issue",
        "",
        "",
    ),
    (84, "The file could not be found", "ACDC", TRANSFER_TEAM, ROOT_FILE),
    (
        85,
        "If FileReadError, the file could not be read.\n\n"
        "If R__unzip: error, most likely a bad node with corrupted intermediate files.",
        "ACDC",
        "If getting unzip errors, most likely a bad node. Report immediately.\n\n" + TRANSFER_TEAM,
        r"(root://[-/\w\.]+\.root|R__unzip)",
    ),
    (92, "File was not found and fallback procedure also failed.", "ACDC", TRANSFER_TEAM, ROOT_FILE),
    (134, "", "Strong failure to report immediately", "", ""),
    (
        137,
        "Likely an unrelated batch system kill. Sometimes a site-related problem.",
        "Point SSP. Open GGUS ticket and put site in drain.",
        "",
        "",
    ),
    (8001, "", STRONG, "", ""),
    (8002, "", STRONG, "", ""),
    (8004, "BadAlloc - memory exhaustion", "Report immediately to the Site Support Team.", "", ""),
    (11003, "JobExtraction failures", "ACDC", "", ""),
    (50513, "Failure to run SCRAM setup scripts", "ACDC", "", ""),
    (50660, 'Performance kill: "Job exceeding maxRSS"', "More memory", "", ""),
    (
        61202,
        "Can't determine proxy filename. X509 user proxy required for job.",
        "If temporary failure: ACDC, otherwise contact glideinWMS team",
        "",
        "",
    ),
    (
        71104,
        "Site containing only available copy of input datasets is in drain.",
        "Copy input files from tape (?) or wait for site listed to come out of drain.",
        "",
        r"The job can run only at .*(T[12].*)",
    ),
    (71304, WALLCLOCK, "ACDC", "", ""),
    (71305, WALLCLOCK, "ACDC", "", ""),
    (71306, WALLCLOCK, "ACDC", "", ""),
    (
        99109,
        "Uncaught exception in WMAgent step executor (often staging out problems)",
        "Check the Site Readiness and consult with the Site Support Team.\n\n"
        "If a temporary failure: ACDC.\n\n"
        "If a problem with the site: Make GGUS ticket, put the site in drain then kill and clone",
        "",
        "",
    ),
    (
        99303,
        "The agent has not found the JobReport.x.pkl file. Regardless of the status of the job, it will "
        "fail the job with 99303. Work is needed to make this error as rare as possible since there are "
        "very limited cases to make the file fail to appear.",
        STRONG,
        "",
        "",
    ),
]


def fill(apps, schema_editor):
    Procedure = apps.get_model("errors", "Procedure")
    for code, cause, normal, additional, expression in PROCEDURES:
        # An admin's edit of an existing row wins over the seed.
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
    Procedure = apps.get_model("errors", "Procedure")
    Procedure.objects.filter(exit_code__in=[row[0] for row in PROCEDURES]).delete()


class Migration(migrations.Migration):
    dependencies = [("errors", "0001_initial")]

    operations = [migrations.RunPython(fill, empty)]
