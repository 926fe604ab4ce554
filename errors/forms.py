"""Input of the error pages: query strings are validated here, never in views."""

import re

from django import forms

from workflows.exit_codes import NOT_REPORTED_LABEL, parse_exit_code

from .models import Procedure
from .selectors.filters import NoiseFilters
from .selectors.global_view import PIEVARS, SORTS
from .selectors.messages import MESSAGE_SORTS

SORT_ERROR = {"invalid_choice": "sort must be errors or name; %(value)s is neither."}


def sort_field() -> forms.ChoiceField:
    """`sort`: "errors" (worst first, the default) or "name"."""
    return forms.ChoiceField(choices=[(key, key) for key in SORTS], required=False, error_messages=SORT_ERROR)


class RepeatedTextField(forms.Field):
    """A parameter that may repeat (`hide_site=A&hide_site=B`): the distinct non-blank values."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, name: str, max_length: int, **kwargs):
        self.name, self.max_length = name, max_length
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        values = [item.strip() for item in (value or []) if item and item.strip()]
        for item in values:
            if len(item) > self.max_length:
                raise forms.ValidationError(
                    f"{self.name} must be at most {self.max_length} characters; {item[:40]}… is longer."
                )
        return tuple(dict.fromkeys(values))


class NoiseFilterForm(forms.Form):
    """The noise filters of the global view and the list page (errors/selectors/filters.py)."""

    min_errors = forms.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        error_messages={
            "invalid": "min_errors must be a whole number of failed jobs, such as 10.",
            "min_value": "min_errors must be at least 1.",
            "max_value": "min_errors must be at most 2147483647.",
        },
    )
    no_pending = forms.BooleanField(required=False)
    grew = forms.BooleanField(required=False)
    hide_campaign = RepeatedTextField(name="hide_campaign", max_length=200)
    hide_site = RepeatedTextField(name="hide_site", max_length=100)

    def noise_filters(self) -> NoiseFilters:
        data = self.cleaned_data
        return NoiseFilters(
            min_errors=data["min_errors"] or 0,
            no_pending=data["no_pending"],
            grew=data["grew"],
            hide_campaigns=data["hide_campaign"],
            hide_sites=data["hide_site"],
        )


class GlobalViewForm(NoiseFilterForm):
    pievar = forms.ChoiceField(
        choices=[(key, key) for key in PIEVARS],
        required=False,
        error_messages={
            "invalid_choice": "pievar must be errorcode, sitename or stepname; %(value)s is none of them."
        },
    )
    page = forms.IntegerField(min_value=1, required=False)
    campaign = forms.CharField(max_length=200, required=False)
    prep_id = forms.CharField(max_length=400, required=False)
    sitename = forms.CharField(max_length=100, required=False)
    sort = sort_field()
    compact = forms.BooleanField(required=False)  # one column header per page

    def clean_pievar(self):
        return self.cleaned_data["pievar"] or "errorcode"

    def clean_sort(self):
        return self.cleaned_data["sort"] or "errors"


class ExitCodeField(forms.Field):
    """An exit code as links and people give it: an integer, or "NotReported" (stored as -1)."""

    default_error_messages = {
        "invalid": f"errorcode must be an integer or {NOT_REPORTED_LABEL}.",
        "out_of_range": "errorcode must be between -2147483648 and 2147483647.",
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            code = parse_exit_code(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not -(2**31) <= code < 2**31:  # the column's range: a bigger one would fail the query
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return code


class ListPageForm(NoiseFilterForm):
    """Two of errorcode, sitename and workflow. `workflowstep` (a step path) may stand for
    the workflow, narrowing it to that step: a step row's pie in the global view."""

    errorcode = ExitCodeField(required=False)
    sitename = forms.CharField(max_length=100, required=False)
    workflow = forms.CharField(max_length=400, required=False)
    workflowstep = forms.CharField(max_length=1000, required=False)
    sort = sort_field()

    def clean_sort(self):
        return self.cleaned_data["sort"] or "errors"

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if cleaned.get("workflow") and cleaned.get("workflowstep"):
            raise forms.ValidationError("Give workflow or workflowstep, not both.")
        given = [
            name
            for name in ("errorcode", "sitename", "workflow", "workflowstep")
            if cleaned.get(name) not in (None, "")
        ]
        if len(given) != 2:
            raise forms.ValidationError(
                "Give exactly two of errorcode, sitename and workflow (or workflowstep); the list "
                f"shows the third (got {len(given)}: {', '.join(given) or 'none'})."
            )
        return cleaned


class ExplainErrorForm(forms.Form):
    errorcode = ExitCodeField()
    workflowstep = forms.CharField(max_length=1000)


class TopMessagesForm(forms.Form):
    page = forms.IntegerField(min_value=1, required=False)
    sort = forms.ChoiceField(
        choices=[(key, key) for key in MESSAGE_SORTS],
        required=False,
        error_messages={"invalid_choice": "sort must be samples or workflows; %(value)s is neither."},
    )

    def clean_page(self):
        return self.cleaned_data["page"] or 1

    def clean_sort(self):
        return self.cleaned_data["sort"] or "samples"


class MessageWorkflowsForm(forms.Form):
    page = forms.IntegerField(min_value=1, required=False)

    def clean_page(self):
        return self.cleaned_data["page"] or 1


class TrendsForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=365, required=False)

    def clean_days(self):
        return self.cleaned_data["days"] or 14


class PinForm(forms.Form):
    """"Link for a ticket": the snapshot the page showed and the page (path and query)."""

    snapshot = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    next = forms.CharField(max_length=4000, required=False)


class ProcedureAdminForm(forms.ModelForm):
    """Admin form: a bad regular expression is a form error, never a 500."""

    class Meta:
        model = Procedure
        fields = ["exit_code", "cause", "normal_procedure", "additional_procedure", "match_expression"]

    def clean_match_expression(self):
        expression = self.cleaned_data["match_expression"]
        if expression:
            try:
                re.compile(expression)
            except re.error as exc:
                raise forms.ValidationError(f"Not a valid regular expression: {exc}") from exc
        return expression
