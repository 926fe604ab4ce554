"""Seed the recommended procedures per exit code (the original tool's table)."""

from django.db import migrations

LFN = r"(/store/\S+\.root)"

PROCEDURES = [
    (
        73,
        "The job failed in the cmsRun configuration or wrapper before processing: often a bad "
        "or missing input file in the parameter set, or a software problem in the release.",
        "Look at the log samples. If a single site shows it, ACDC excluding that site; if all "
        "sites show it, do not recover: open a JIRA ticket for the requestor.",
        "If an input file is named, check that it exists and is on disk.",
        LFN,
    ),
    (
        84,
        "A file could not be found or opened (FileOpenError / file not found), usually an input "
        "or pile-up file missing at the site or not reachable over xrootd.",
        "ACDC with xrootd enabled, or restricted to sites hosting the file.",
        "If the same file fails everywhere, report it to the data-management team (Rucio "
        "consistency) with the file name below.",
        LFN,
    ),
    (
        85,
        "File read error (FileReadError): a file was opened but reading it failed, usually a "
        "corrupt replica or a storage problem at the site.",
        "ACDC excluding the site of the failures, with xrootd enabled.",
        "If several sites fail on the same file, report the file as corrupt to data management.",
        LFN,
    ),
    (
        92,
        "Fallback file open failed (FileOpenError with fallback): neither the local nor the "
        "remote (xrootd) copy of an input file could be opened.",
        "ACDC with xrootd enabled at other sites.",
        "Check the file's locations; report a lost file to data management.",
        LFN,
    ),
    (
        134,
        "cmsRun aborted (SIGABRT), often an assertion or exception in the software.",
        "Look at the log samples; if the crash is reproducible, do not recover: open a JIRA "
        "ticket for the software experts.",
        "A single site with many failures may point to a bad node: ACDC elsewhere.",
        r"(?:terminate called|Abort|SIGABRT)[^\n]*?(\w+::\w+)",
    ),
    (
        137,
        "The job was killed (SIGKILL), usually by the batch system for using too much memory or "
        "running too long.",
        "ACDC with more memory (e.g. +1000 MB) if memory is the cause; otherwise a finer splitting.",
        "If wall time is the cause, use 2x or 3x splitting.",
        r"RSS[^\d]*(\d+(?:\.\d+)?)\s*MB",
    ),
    (
        8001,
        "Other CMS exception in cmsRun (EventProcessorFailure or a module exception).",
        "Read the exception in the log samples. Transient ones (network, conditions access) "
        "recover with an ACDC; reproducible ones need a JIRA ticket.",
        "The module named below is where the exception came from.",
        r"Exception Message:.*?[Mm]odule[: ]+(\w+)",
    ),
    (
        8002,
        "std::exception in cmsRun (a C++ exception not from the framework).",
        "ACDC once; if it fails again at several sites, open a JIRA ticket.",
        "",
        r"std::exception[^\n]*?:\s*([^\n]+)",
    ),
    (
        8004,
        "std::bad_alloc: cmsRun ran out of memory inside the process.",
        "ACDC with more memory (e.g. +1000 MB), or fewer cores.",
        "If the memory asked already exceeds the site limit, use a finer splitting.",
        r"bad_alloc[^\n]*?(\d+)",
    ),
    (
        11003,
        "Job report (FrameworkJobReport.xml) missing or unreadable: the job died before writing it.",
        "ACDC; if it happens at a single site, exclude that site.",
        "",
        r"(FrameworkJobReport\.xml)",
    ),
    (
        50513,
        "Failure to run the job wrapper (SCRAM or environment set-up), usually a site software "
        "area problem.",
        "ACDC excluding the site.",
        "Report to the site (GGUS) if it persists.",
        r"(scram[^\n]*?error[^\n]*)",
    ),
    (
        50660,
        "The job used more memory (RSS) than allowed and was killed by the watchdog.",
        "ACDC with more memory: the RSS below is what the job used; ask for it plus some margin.",
        "If memory is already high, use a finer splitting or fewer cores.",
        r"RSS[^\d]*(\d+(?:\.\d+)?)\s*MB",
    ),
    (
        61202,
        "The job could not be scheduled or started at the site (condor or glidein problem).",
        "ACDC; exclude the site if all failures are there.",
        "",
        r"(?:site|Site)[:= ]+(T\d_[A-Z]{2}_\w+)",
    ),
    (
        71104,
        "The job was killed by the agent: it stayed idle too long, usually because no site in "
        "its list can run it (no matching resources).",
        "ACDC with a wider site list (Auto or Manual).",
        "Check the site whitelist and pile-up locations.",
        r"(?:site|Site)[:= ]+(T\d_[A-Z]{2}_\w+)",
    ),
    (
        71304,
        "The job was killed by the agent for exceeding the wall-clock time.",
        "ACDC with 2x or 3x splitting.",
        "",
        r"[Ww]all ?[Cc]lock[^\d]*(\d+)",
    ),
    (
        71305,
        "The job was killed by the agent for exceeding the maximum memory (PSS).",
        "ACDC with more memory (e.g. +1000 MB).",
        "If memory is already high, use a finer splitting.",
        r"PSS[^\d]*(\d+(?:\.\d+)?)\s*MB",
    ),
    (
        71306,
        "The job was killed by the agent for exceeding the disk space limit.",
        "ACDC with a finer splitting (2x or more).",
        "",
        r"[Dd]isk[^\d]*(\d+(?:\.\d+)?)\s*[GM]B",
    ),
    (
        99109,
        "Stage-out failed: the output could not be copied to the site storage.",
        "ACDC; exclude the site if all failures are there.",
        "Report a persistent stage-out failure to the site (GGUS) with the file name below.",
        LFN,
    ),
    (
        99303,
        "The job report was lost: the job ran but the agent found no report (often a "
        "condor/agent communication problem).",
        "ACDC.",
        "If it repeats at one site, exclude that site.",
        r"(?:site|Site)[:= ]+(T\d_[A-Z]{2}_\w+)",
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
