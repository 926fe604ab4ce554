from django import forms


class WorkflowForm(forms.Form):
    workflow = forms.CharField(
        max_length=400, error_messages={"required": "Give the workflow name: ?workflow=<name>."}
    )


class LogSearchForm(forms.Form):
    search = forms.CharField(max_length=1000, required=False)
    module = forms.CharField(max_length=200, required=False)
    limit = forms.IntegerField(min_value=1, max_value=500, required=False)
    page = forms.IntegerField(min_value=1, max_value=1000, required=False)

    def clean_limit(self):
        return self.cleaned_data["limit"] or 50

    def clean_page(self):
        return self.cleaned_data["page"] or 1
