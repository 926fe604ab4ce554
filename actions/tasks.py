"""Celery tasks of actions: thin wrappers over `requester_mail`."""

import smtplib

from celery import shared_task

from . import requester_mail

# A mail server that refuses or times out is retried after 1, 2, 4, 8 and 16 minutes.
MAIL_RETRIES = 5
MAIL_ERRORS = (smtplib.SMTPException, OSError)


@shared_task(bind=True, acks_late=True, max_retries=MAIL_RETRIES)
def tell_requesters(self, batch: str) -> dict:
    try:
        return requester_mail.send_batch(batch)
    except MAIL_ERRORS as exc:
        if self.request.retries >= MAIL_RETRIES:
            requester_mail.give_up(batch, f"the mail server failed {MAIL_RETRIES + 1} times: {exc}")
            raise
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
