from django.shortcuts import render

from . import selectors


def home(request):
    return render(request, "home.html", {"overview": selectors.overview()})
