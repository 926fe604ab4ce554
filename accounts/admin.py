import allauth.account.admin  # noqa: F401 -- registered first, so that it can be unregistered below
from allauth.account.models import EmailAddress
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Exists, OuterRef

from . import services
from .adapter import validate_username
from .models import User

USERNAME_HELP = "Letters and digits only; unique regardless of upper and lower case."


class UserAddForm(AdminUserCreationForm):
    """The admin's add-user form, with the sign-up rule for usernames."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        help_texts = {"username": USERNAME_HELP}

    def clean_username(self):
        username = self.cleaned_data.get("username")
        validate_username(username)
        return super().clean_username()


class UserEditForm(UserChangeForm):
    """The admin's user form: a changed username must follow the sign-up rule.

    An unchanged one is let through, so older names (e.g. from createsuperuser) do not block
    editing the rest of the account.
    """

    class Meta(UserChangeForm.Meta):
        model = User
        help_texts = {"username": USERNAME_HELP}

    def clean_username(self):
        username = self.cleaned_data.get("username")
        if "username" in self.changed_data:
            validate_username(username)
        return username


def _verified_primary_email():
    return Exists(EmailAddress.objects.filter(user=OuterRef("pk"), primary=True, verified=True))


class VerifiedFilter(admin.SimpleListFilter):
    title = "e-mail verified"
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return [("yes", "Verified"), ("no", "Not verified")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(email_verified=True)
        if self.value() == "no":
            return queryset.filter(email_verified=False)
        return queryset


class EmailAddressInline(admin.TabularInline):
    model = EmailAddress
    extra = 0
    fields = ("email", "primary", "verified")


# One section for accounts: allauth's own "Accounts" section listed only the addresses, which
# are edited here inline on each user (and verified with the action below).
if admin.site.is_registered(EmailAddress):
    admin.site.unregister(EmailAddress)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserAddForm
    list_display = (
        "username",
        "email",
        "email_verified",
        "is_active",
        "is_staff",
        "last_login",
        "date_joined",
    )
    list_filter = (VerifiedFilter, "is_active", "is_staff", "is_superuser")
    inlines = [EmailAddressInline]
    actions = ["mark_verified", "deactivate"]

    def get_queryset(self, request):
        # One EXISTS per row in the same query: the column and the filter cost no extra queries.
        return super().get_queryset(request).annotate(email_verified=_verified_primary_email())

    @admin.display(boolean=True, description="E-mail verified", ordering="email_verified")
    def email_verified(self, user):
        return user.email_verified

    @admin.action(description="Mark the primary e-mail of the selected users verified")
    def mark_verified(self, request, queryset):
        outcome = services.mark_verified(queryset)
        if outcome.verified:
            self.message_user(request, f"Verified: {', '.join(outcome.verified)}.", messages.SUCCESS)
        if outcome.already_verified:
            self.message_user(request, f"Already verified: {', '.join(outcome.already_verified)}.")
        for username, why in outcome.refused.items():
            self.message_user(request, f"Could not verify {username}: {why}.", messages.ERROR)

    @admin.action(description="Deactivate the selected users (they can no longer log in or act)")
    def deactivate(self, request, queryset):
        count, skipped_self = services.deactivate(queryset, acting_admin=request.user)
        self.message_user(request, f"Deactivated {count} user(s).", messages.SUCCESS)
        if skipped_self:
            self.message_user(request, "You cannot deactivate your own account.", messages.WARNING)
