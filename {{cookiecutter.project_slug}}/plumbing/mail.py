"""The e-mail backend production uses while EMAIL_URL is not set.

Django's default would try an SMTP server on localhost and fail with "Connection refused";
this says what is missing instead, as one ERROR log line per message (Sentry reports it).
"""

import logging

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)


class NotConfiguredBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            logger.error(
                "EMAIL_URL is not set: e-mail %r to %d recipient(s) was not sent",
                message.subject,
                len(message.recipients()),
            )
        return 0
