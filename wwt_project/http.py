"""The short error pages every app's views answer with (one template, one place)."""

from django import forms
from django.shortcuts import render

from .page_data import json_problem, wants_json


def problem_page(request, title: str, message: str, status: int):
    """The short page saying what went wrong, or {"detail", "status"} to a client asking JSON."""
    if wants_json(request):
        return json_problem(message, status)
    return render(request, "problem.html", {"title": title, "message": message}, status=status)


def bad_request(request, message: str):
    return problem_page(request, "Bad request", message, 400)


def not_found(request, message: str):
    return problem_page(request, "Not found", message, 404)


def first_error(form: forms.Form) -> str:
    """The form's errors as one sentence for a 400 page."""
    messages = []
    for name, errors in form.errors.items():
        label = "" if name == "__all__" else f"{name}: "
        messages.extend(f"{label}{error}" for error in errors)
    return " ".join(messages)
