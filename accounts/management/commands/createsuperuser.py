"""Django's createsuperuser, whose new admin can open /admin/ at once.

The admin requires a verified e-mail address (allauth's login checks it), and no mail is sent
from a terminal: the address given here is marked primary and verified.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.management.commands import createsuperuser

from accounts import services


class Command(createsuperuser.Command):
    help = createsuperuser.Command.help + " The given e-mail address is marked verified."

    def handle(self, *args, **options):
        users = get_user_model()._default_manager.db_manager(options["database"])
        # The stock command returns nothing: the new admin is the superuser that was not there before.
        existing = set(users.filter(is_superuser=True).values_list("pk", flat=True))
        super().handle(*args, **options)
        created = users.filter(is_superuser=True).exclude(pk__in=existing)
        outcome = services.mark_verified(created)
        for username in outcome.verified:
            self.stdout.write(f"The e-mail address of {username} is marked verified.")
        for username, why in outcome.refused.items():
            self.stderr.write(
                f"{username} cannot open /admin/ yet: {why}. Another admin can verify it "
                "(Users > 'Mark the primary e-mail of the selected users verified')."
            )
