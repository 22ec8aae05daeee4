"""The TLS client context of notifications (`https://` and `mqtts://` endpoints): the system
trust store plus `notification_ca_file`, certificate and host name always verified.

One context is built at start-up and shared by both transports, so a CA file that is missing
or not PEM stops the broker at start-up instead of failing every notification later.
"""

from __future__ import annotations

import ssl

from broker.settings import Settings


class NotificationCaError(ValueError):
    """`notification_ca_file` cannot be read as PEM CA certificates."""


def notification_ssl_context(settings: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if settings.notification_ca_file:
        try:
            context.load_verify_locations(cafile=settings.notification_ca_file)
        except OSError as exc:  # ssl.SSLError included
            raise NotificationCaError(
                f"notification_ca_file {settings.notification_ca_file!r}: {exc}"
            ) from exc
    return context
