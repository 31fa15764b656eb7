"""Alert delivery: webhooks (signed JSON), syslog/CEF for SIEMs and e-mail, all from one AlertNotice.

The collector builds an AlertNotice from an alert and hands it to each configured Deliverer; see
docs/alert-delivery.md for the payload, signatures, retries and the CEF field mapping.
"""

from __future__ import annotations

from collector.alert_delivery.deliverer import Deliverer, DeliveryFailed, deliver_to_all
from collector.alert_delivery.notice import SCHEMA_ID, AlertNotice, Level
from collector.alert_delivery.retry import RetryPolicy
from collector.alert_delivery.smtp import SmtpDeliverer
from collector.alert_delivery.syslog_cef import SyslogDeliverer
from collector.alert_delivery.webhook import WebhookDeliverer, verify_signature

__all__ = [
    "SCHEMA_ID",
    "AlertNotice",
    "Deliverer",
    "DeliveryFailed",
    "Level",
    "RetryPolicy",
    "SmtpDeliverer",
    "SyslogDeliverer",
    "WebhookDeliverer",
    "deliver_to_all",
    "verify_signature",
]
