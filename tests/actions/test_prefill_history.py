"""The form starts from the last action sent (marked as such), and the workflow page shows the
workflow's action history as a readable table: who, when, what, reported or withdrawn."""

from html.parser import HTMLParser

import pytest
from django.test import RequestFactory
from django.utils import timezone

from actions.models import Action, ActionSubmission
from actions.panels import Prefill, form_context, workflow_panel
from actions.services import mark_reported, submit_action, withdraw_actions
from tests.actions.conftest import tasks_of


class _FormReader(HTMLParser):
    """What a browser would post from the action form as rendered (checked boxes and radios,
    selected options, text values, textareas), as a list of (name, value)."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self.inside = False
        self.select: str | None = None
        self.select_value: str | None = None
        self.first_option: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == "action-form":
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields.append((a["name"], a.get("value", "on")))
            elif kind != "submit":
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.select_value, self.first_option = a["name"], None, None
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = a.get("value", "")
            if "selected" in a:
                self.select_value = a.get("value", "")
        elif tag == "textarea":
            self.textarea, self.text = a["name"], ""

    def handle_data(self, data):
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            value = self.select_value if self.select_value is not None else self.first_option
            self.fields.append((self.select, value or ""))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, self.text))
            self.textarea = None


def _form_as_posted(html: str) -> dict[str, list[str]]:
    reader = _FormReader()
    reader.feed(html)
    posted: dict[str, list[str]] = {}
    for name, value in reader.fields:
        posted.setdefault(name, []).append(value)
    return posted


def _resubmit_as_shown(client, workflow):
    """Open the form and submit it exactly as it was shown."""
    html = client.get(f"/submitaction?workflow={workflow.name}").content.decode()
    return client.post(f"/submitaction?workflow={workflow.name}", _form_as_posted(html)), html


REASONS = [{"short": "mem", "long": "Jobs exceed the memory limit."}]


@pytest.mark.parametrize(
    ("action", "parameters"),
    [
        ("acdc", {"AllSteps": {"memory": 3000, "xrootd": "enabled"}}),
        ("acdc", "ONLY_MERGE_MANUAL"),
        ("acdc", "BAN_ON_FIRST"),
        ("clone", {"memory": 4000, "splitting": "2x", "comment": "a <b>bold</b> clone"}),
        ("special", {"action": "on-hold", "other": "waiting for the site"}),
    ],
)
def test_the_form_reopens_with_the_last_action_and_sends_it_again_unchanged(
    operator_client, verified_operator, workflows, sources, action, parameters
):
    first, merge = tasks_of(workflows[0].name)[:2]
    if parameters == "ONLY_MERGE_MANUAL":
        parameters = {merge: {"sites": ["T2_US_MIT", "T3_US_Colorado"], "multicore": 4, "splitting": "max"}}
    elif parameters == "BAN_ON_FIRST":
        parameters = {"AllSteps": {"memory": 2500}, first: {"ban": ["T2_DE_DESY", "T1_US_FNAL"]}}
    reasons = [*REASONS, {"short": "", "long": "Second & <last> reason."}]
    submit_action(
        user=verified_operator,
        workflows=[workflows[0].name],
        action=action,
        parameters=parameters,
        reasons=reasons,
    )
    sent = Action.objects.get()
    response, html = _resubmit_as_shown(operator_client, workflows[0])
    assert "Pre-filled from the action" in html and f"by {verified_operator.username}" in html
    assert response.status_code == 302, html
    again = Action.objects.get()
    assert (again.action, again.parameters, again.reasons) == (sent.action, sent.parameters, sent.reasons)
    assert again.submission_id != sent.submission_id  # a new submission, the same content
    assert ActionSubmission.objects.count() == 2


def test_the_prefill_is_marked_with_the_action_and_its_date(
    operator_client, verified_operator, workflows, sources
):
    submit_action(
        user=verified_operator,
        workflows=[workflows[0].name],
        action="acdc",
        parameters={"AllSteps": {"memory": 3000}},
        reasons=REASONS,
    )
    when = Action.objects.get().submitted_at
    html = operator_client.get(f"/seeworkflow?workflow={workflows[0].name}").content.decode()
    assert f"Pre-filled from the action ACDC sent on {when:%Y-%m-%d %H:%M} UTC by alice" in html
    posted = _form_as_posted(html)
    assert (
        posted["action"] == ["acdc"]
        and posted["t0-memory"] == ["3000"]
        and posted["t0-sites_method"] == ["Manual"]
    )
    assert posted["t0-sites"] == ["T1_US_FNAL", "T2_CH_CERN"] and posted["reason_short"] == ["mem"]


def test_the_form_after_a_submission_shows_what_was_sent_not_the_defaults(
    operator_client, workflows, sources
):
    data = {
        "workflow": workflows[0].name,
        "action": "clone",
        "clone-memory": "5000",
        "reason_short": ["mem"],
        "reason_long": ["Jobs exceed the memory limit."],
    }
    response = operator_client.post(f"/submitaction?workflow={workflows[0].name}", data, follow=True)
    html = response.content.decode()
    assert "Pre-filled from the action kill and clone sent on" in html
    assert 'name="clone-memory" value="5000"' in html
    assert _form_as_posted(html)["action"] == ["clone"]


def test_with_no_action_yet_the_form_opens_with_the_defaults(operator_client, workflows, sources):
    html = operator_client.get(f"/submitaction?workflow={workflows[0].name}").content.decode()
    assert "Pre-filled" not in html
    posted = _form_as_posted(html)
    assert (
        posted["action"] == ["acdc"]
        and posted["all-sites_method"] == ["Auto"]
        and "t0-sites_method" in posted
    )


def test_a_prefill_the_status_no_longer_allows_says_so(verified_operator, workflows, sources):
    workflow = workflows[0]
    workflow.request_parameters, workflow.request_fetched_at = (
        {"request_status": "running-open"},
        timezone.now(),
    )
    workflow.save()
    prefill = Prefill(action="acdc", parameters={"AllSteps": {}}, reasons=REASONS, note="From a suggestion.")
    context = form_context(workflow, prefill=prefill)
    assert context["prefill_note"] == "From a suggestion."
    assert context["prefilled_action_missing"].startswith(
        "ACDC is not offered for a request in status running-open"
    )
    assert context["chosen_action"] == "clone"  # the first one offered: the pre-filled one is not


def test_a_suggestion_in_the_api_shape_fills_the_form(verified_operator, workflows, sources):
    first, merge = tasks_of(workflows[0].name)[:2]
    prefill = Prefill(
        action="acdc",
        parameters={"AllSteps": {"memory": 4000, "cores": 2}, merge: {"splitting": "2x"}},
        reasons=REASONS,
        note="Filled from the suggestion.",
    )
    context = form_context(workflows[0], prefill=prefill)
    blocks = {block["prefix"]: block for block in context["blocks"]}
    assert blocks["all"]["values"]["memory"] == "4000" and blocks["all"]["values"]["cores"] == "2"
    assert blocks["all"]["sites_method"] == "Auto"
    assert blocks["t1"]["task"] == merge and blocks["t1"]["values"]["splitting"] == "2x"
    assert blocks["t1"]["only"] is False and blocks["t0"]["values"]["memory"] == ""


def test_the_history_is_a_readable_table_with_who_when_what_and_outcome(
    operator_client, verified_operator, other_operator, workflows, sources
):
    first = tasks_of(workflows[0].name)[0]
    submit_action(
        user=verified_operator,
        workflows=[workflows[0].name],
        action="acdc",
        parameters={first: {"memory": 3000}},
        reasons=REASONS,
    )
    mark_reported([workflows[0].name])
    submit_action(
        user=other_operator,
        workflows=[workflows[0].name],
        action="clone",
        parameters={"splitting": "2x"},
        reasons=[{"short": "", "long": "<script>alert(1)</script> split more"}],
    )
    withdraw_actions([workflows[0].name], user=verified_operator, reason="Wrong <b>workflow</b>")
    html = operator_client.get(f"/seeworkflow?workflow={workflows[0].name}").content.decode()
    table = html[html.index('class="data action-history-table"') : html.index("</table>")]
    rows = table.split("<tr>")[2:]  # the header row first
    assert len(rows) == 2
    newest, oldest = rows
    assert "bob" in newest and "kill and clone" in newest and "splitting 2x" in newest
    assert "withdrawn</span> by alice" in newest and "Wrong &lt;b&gt;workflow&lt;/b&gt;" in newest
    assert "&lt;script&gt;alert(1)&lt;/script&gt; split more" in newest
    assert "alice" in oldest and "ACDC" in oldest and "reported done" in oldest
    assert f"{first}: sites T1_US_FNAL, T2_CH_CERN; memory 3000 MB" in oldest
    assert '"sites":' not in html and "<script>alert(1)</script>" not in html  # no raw JSON, escaped text
    assert "No pending action: the last one was withdrawn" in html


def test_the_history_is_shown_to_everyone_but_only_operators_get_the_form(
    client, verified_operator, workflows, sources
):
    submit_action(
        user=verified_operator, workflows=[workflows[0].name], action="clone", parameters={}, reasons=REASONS
    )
    html = client.get(f"/seeworkflow?workflow={workflows[0].name}").content.decode()
    assert "action-history-table" in html and 'id="action-form"' not in html and "withdraw-form" not in html


@pytest.mark.parametrize("submissions", [1, 30])
def test_the_panel_reads_a_bounded_number_of_queries_whatever_the_history(
    verified_operator, workflows, sources, django_assert_max_num_queries, submissions
):
    for number in range(submissions):
        submit_action(
            user=verified_operator,
            workflows=[workflows[0].name],
            action="clone",
            parameters={"memory": 1000 + number},
            reasons=REASONS,
        )
    withdraw_actions([workflows[0].name], user=verified_operator, reason="no longer needed")
    request = RequestFactory().get("/seeworkflow")
    request.user = verified_operator
    with django_assert_max_num_queries(8):
        panel = workflow_panel(workflows[0], verified_operator)
    assert len(panel["history"]) == min(submissions, 20)
    assert panel["history"][0]["withdrawn_by"] == "alice"
