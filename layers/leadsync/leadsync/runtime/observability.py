"""Structured logging (Powertools) and the masks that keep personal data out of logs."""

from __future__ import annotations

import ipaddress
import os
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

SERVICE = "leadsync"


@cache
def get_logger() -> Logger:
    """One Powertools Logger per process; child loggers are not needed at this size."""
    from aws_lambda_powertools import Logger

    return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE), utc=True)


def mask_email(email: str | None) -> str:
    """`jane.doe@example.com` → `j***@e***.com`: enough to tell records apart, not to reach."""
    if not email:
        return ""
    local, sep, domain = email.partition("@")
    if not sep:
        return _mask_word(email)
    host, dot, tld = domain.rpartition(".")
    masked_domain = f"{_mask_word(host)}{dot}{tld}" if dot else _mask_word(domain)
    return f"{_mask_word(local)}@{masked_domain}"


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    return " ".join(_mask_word(part) for part in name.split())


def mask_ip(address: str | None) -> str:
    """Keep the network, drop the host: /24 for IPv4, /48 for IPv6."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return "***"
    prefix = 24 if ip.version == 4 else 48
    network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    return str(network)


def _mask_word(word: str) -> str:
    return f"{word[0]}***" if word else "***"
