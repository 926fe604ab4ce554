from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The top layer: what composes several apps (the import of the original tool's stores).
    Nothing imports it."""

    name = "wwt_project.pages"
    label = "pages"
