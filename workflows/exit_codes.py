"""Exit codes as people read them.

Unified's all_errors names one exit code `NotReported`: files the ACDC server lists as
failed with no failure report. It is stored as -1 (as the original tool did) and shown
by its name everywhere; every page, chart and form goes through these two functions.
"""

import re

NOT_REPORTED = -1
NOT_REPORTED_LABEL = "NotReported"


def exit_code_label(code) -> str:
    """The text shown for a stored exit code: "NotReported" for -1, else the number."""
    return NOT_REPORTED_LABEL if code == NOT_REPORTED else str(code)


def parse_exit_code(text) -> int:
    """The stored exit code for `text` ("NotReported", any case, or an integer, -1 too).
    Raises ValueError for anything else."""
    value = str(text).strip()
    if value.lower() == NOT_REPORTED_LABEL.lower():
        return NOT_REPORTED
    if not re.fullmatch(r"-?[0-9]+", value):
        raise ValueError(f"{value!r} is not an exit code")
    return int(value)
