from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import api, views

urlpatterns = [
    # Unified's paths, exactly as its client calls them: no trailing slash, no redirect.
    path("getaction", api.GetActionView.as_view(), name="getaction"),
    path("reportaction", api.ReportActionView.as_view(), name="reportaction"),
    path("api/getaction", api.GetActionView.as_view(), name="api-getaction"),
    path("api/reportaction", api.ReportActionView.as_view(), name="api-reportaction"),
    path("api/actions/", api.SubmitActionView.as_view(), name="api-actions"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.api_docs, name="api-docs"),
    path("api/docs/redoc.standalone.js", views.api_docs_script, name="api-docs-script"),
    path("submitaction", views.submit_action, name="submit-action"),
    path("actions/", views.actions_page, name="actions"),
    path("seeworkflow2", views.seeworkflow2, name="seeworkflow2"),
]
