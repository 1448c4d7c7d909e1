"""Ownership of DNS records, the way ExternalDNS's TXT registry records it.

Next to every address record DeployTag creates (``feature-x-web.example.com``)
it keeps a TXT record at ``dt-feature-x-web.example.com`` saying who owns it.
A separate name, because a CNAME may not share its name with any other record;
the prefix counts toward the 63-character label limit (checked at plan time).
A record without that TXT, or with one naming another app or branch, is never
changed or deleted.
"""

from __future__ import annotations

import msgspec

OWNER_PREFIX = "dt-"
HERITAGE = "heritage=deploytag"


class Owner(msgspec.Struct, frozen=True):
    app: str
    branch: str

    def text(self) -> str:
        # The branch goes last: it is the only part that may contain commas.
        return f"{HERITAGE},deploytag/app={self.app},deploytag/branch={self.branch}"


def owner_name(fqdn: str) -> str:
    return OWNER_PREFIX + fqdn


def parse_owner(text: str) -> Owner | None:
    """The owner a TXT value names, or None when it is not DeployTag's."""
    head, sep, branch = text.partition(",deploytag/branch=")
    if not sep:
        return None
    heritage, sep, app = head.partition(",deploytag/app=")
    if not sep or heritage != HERITAGE or not app:
        return None
    return Owner(app=app, branch=branch)
