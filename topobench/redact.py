"""Credentials never reach a message: :func:`redact_url` is the one helper that hides them.

Used wherever a URL (results database, data host) is printed, logged or stored in a message.
"""
from __future__ import annotations

import re

MASK = "***"
#: ``scheme://`` then the rest of a URL token (stops at whitespace, quotes and brackets).
_URL = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<rest>[^\s'\"<>`]*)")
#: key=value secrets in a query string or a libpq keyword string.
_SECRET_KEYS = re.compile(r"(?i)(?P<key>\b(?:password|passwd|pwd|pass|secret|token|access_token|api_key|apikey|"
                          r"sslpassword|auth)=)(?P<value>[^&;#\s'\"<>]*)")


def _redact_token(match: re.Match) -> str:
    scheme, rest = match.group("scheme"), match.group("rest")
    userinfo, at, host = rest.rpartition("@")  # the last '@': a password may hold raw '@', '/', '?'
    if not at:
        return match.group(0)
    user, colon, secret = userinfo.partition(":")
    if not colon or any(c in user for c in "/?#"):
        return match.group(0)  # no password (user@host), or an '@' in the path or query only
    if re.fullmatch(r"\d+", re.split(r"[/?#]", secret, maxsplit=1)[0]) and re.search(r"[/?#]", secret):
        return match.group(0)  # host:port/path...@... : a port, not a password
    return f"{scheme}{user}:{MASK}@{host}"


def redact_url(text) -> str:
    """``text`` (a URL or any message holding URLs) with every password replaced by ``***``:
    ``user:password@`` becomes ``user:***@``, and ``password=...`` (query strings, keyword
    strings) becomes ``password=***``."""
    text = _URL.sub(_redact_token, str(text))
    return _SECRET_KEYS.sub(lambda m: m.group("key") + MASK, text)
