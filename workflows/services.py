"""Writes for workflows and steps."""

import re

from .bulk import bulk_insert, in_clause_chunk
from .models import Step, Workflow

# CMS prep IDs look like PWG-Campaign-NNNNN, e.g. HIG-RunIISummer20UL18wmLHEGEN-00123.
PREP_ID = re.compile(r"([A-Z][A-Za-z0-9]*-[A-Za-z0-9]+-\d{5})")


def describe_workflow_name(name: str) -> dict:
    """Prep ID, campaign and ACDC flag as far as the name tells (ReqMgr2 knows better)."""
    match = PREP_ID.search(name)
    prep_id = match.group(1) if match else ""
    campaign = prep_id.split("-")[1] if prep_id else ""
    return {"prep_id": prep_id, "campaign": campaign, "is_acdc": "ACDC" in name}


def _ids_by_name(model, names: list[str], **filters) -> dict[str, int]:
    found, size = {}, in_clause_chunk()
    for start in range(0, len(names), size):
        chunk = names[start : start + size]
        found.update(model.objects.filter(name__in=chunk, **filters).values_list("name", "id"))
    return found


def ensure_workflows(names: set[str]) -> dict[str, int]:
    """Create the missing workflows in bulk and link new ACDCs to their original."""
    names = sorted(names)
    ids = _ids_by_name(Workflow, names)
    missing = [name for name in names if name not in ids]
    if missing:
        Workflow.objects.bulk_create(
            [Workflow(name=name, **describe_workflow_name(name)) for name in missing],
            batch_size=2000,
            ignore_conflicts=True,
        )
        ids.update(_ids_by_name(Workflow, missing))
        link_acdcs_to_originals()
    return ids


def link_acdcs_to_originals() -> int:
    """Point every unlinked ACDC at the oldest non-ACDC workflow of its prep ID."""
    orphans = list(
        Workflow.objects.filter(is_acdc=True, original__isnull=True).exclude(prep_id="").only("id", "prep_id")
    )
    if not orphans:
        return 0
    originals: dict[str, int] = {}
    prep_ids, size = sorted({w.prep_id for w in orphans}), in_clause_chunk()
    for start in range(0, len(prep_ids), size):
        rows = (
            Workflow.objects.filter(prep_id__in=prep_ids[start : start + size], is_acdc=False)
            .order_by("-id")
            .values_list("prep_id", "id")
        )
        originals.update(rows)  # ordered newest first, so the oldest id wins
    linked = [w for w in orphans if w.prep_id in originals]
    for workflow in linked:
        workflow.original_id = originals[workflow.prep_id]
    Workflow.objects.bulk_update(linked, ["original"], batch_size=2000)
    return len(linked)


def ensure_steps(step_names: set[str]) -> dict[str, int]:
    """Return {step name: id}, creating missing steps (and workflows) in bulk."""
    names = sorted(step_names)
    ids = _ids_by_name(Step, names)
    missing = [name for name in names if name not in ids]
    if missing:
        workflow_ids = ensure_workflows({name.split("/")[1] for name in missing})
        bulk_insert(
            Step,
            ("name", "workflow_id"),
            [(name, workflow_ids[name.split("/")[1]]) for name in missing],
            ignore_conflicts=True,
        )
        ids.update(_ids_by_name(Step, missing))
    return ids
