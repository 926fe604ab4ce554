from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from . import api, views

app_name = "actions"
urlpatterns = [
    # Unified's paths, exactly as its client calls them: no trailing slash, no redirect.
    path("getaction", api.GetActionView.as_view(), name="getaction"),
    path("reportaction", api.ReportActionView.as_view(), name="reportaction"),
    path("api/getaction", api.GetActionView.as_view(), name="api-getaction"),
    path("api/reportaction", api.ReportActionView.as_view(), name="api-reportaction"),
    path("api/actions/", api.SubmitActionView.as_view(), name="api-actions"),
    path("api/actions/<str:workflow>/", api.WithdrawActionView.as_view(), name="api-action"),
    path(
        "api/actions/<str:workflow>/withdraw/",
        api.WithdrawActionPostView.as_view(),
        name="api-action-withdraw",
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", views.api_docs, name="api-docs"),
    path("api/docs/redoc.standalone.js", views.api_docs_script, name="api-docs-script"),
    path("submitaction", views.submit_action, name="submit"),
    path("withdrawaction", views.withdraw_action, name="withdraw"),
    path("actions/", views.actions_page, name="list"),
    path("seeworkflow2", views.seeworkflow2, name="seeworkflow2"),
]
