from allauth.account.forms import SignupForm as AllauthSignupForm

from .adapter import allowed_domains


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form, telling the operator the rules before they trip on them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = "Letters and digits only."
        domains = ", ".join(self.allowed_domains)
        self.fields["email"].help_text = f"An address at {domains} (or one the webmaster whitelisted)."

    @property
    def allowed_domains(self) -> list[str]:
        return allowed_domains()
