from django.core.management.base import BaseCommand

from wwt_project.schedules import install_default_schedules


class Command(BaseCommand):
    help = "Create the default Celery beat entries that are missing (existing ones are left as they are)."

    def handle(self, *args, **options):
        created = install_default_schedules()
        if created:
            self.stdout.write(self.style.SUCCESS("created: " + ", ".join(created)))
        else:
            self.stdout.write("all default schedules already present")
