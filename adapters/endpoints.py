"""What kind of exchange a URL reaches: loopback, the exchange's sandbox, or (anything else)
real money.  Judged the way the HTTP client will parse the URL, never more generously.

requests (which ccxt's sync client uses) parses URLs with urllib3's `parse_url`, so the guard
does too, and refuses every URL on which parsers are known to disagree (userinfo `user@host`,
backslashes, whitespace or control characters, percent-encoded hosts) rather than guessing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

# Ordered from safest to most dangerous; a set of URLs is as dangerous as its worst one.
IN_PROCESS, LOOPBACK, SANDBOX, REAL_MONEY = "in_process", "loopback", "sandbox", "real_money"
KINDS = (IN_PROCESS, LOOPBACK, SANDBOX, REAL_MONEY)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


class UnsafeUrl(ValueError):
    """A URL the guard will not judge, because clients may read it differently."""


def parse_host(url: str) -> str:
    """The lower-case host the HTTP client will connect to; UnsafeUrl when in doubt."""
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    text = str(url)
    if any(c in text for c in "\\@") or any(ord(c) <= 32 or ord(c) == 127 for c in text):
        raise UnsafeUrl(f"{text!r}: backslashes, '@' (userinfo), spaces and control characters "
                        "are not allowed; give plain http(s)://host[:port][/path]")
    try:
        parsed = parse_url(text)
    except LocationParseError as exc:
        raise UnsafeUrl(f"{text!r}: not a URL ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrl(f"{text!r}: scheme must be http or https")
    host = (parsed.host or "").lower().strip("[]")
    if not host or "%" in host or "%" in urlsplit(text).netloc:
        raise UnsafeUrl(f"{text!r}: no plain host name")
    return host


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def classify(url: str, sandbox_hosts: Iterable[str] = ()) -> str:
    """LOOPBACK, SANDBOX (a host of the exchange's own sandbox) or REAL_MONEY."""
    host = parse_host(url)
    if is_loopback(host):
        return LOOPBACK
    if host in {h.lower() for h in sandbox_hosts}:
        return SANDBOX
    return REAL_MONEY


def flatten_urls(urls: Any) -> list[str]:
    """Every URL string in a ccxt-style `urls['api']` value (a string or nested dicts)."""
    if isinstance(urls, str):
        return [urls]
    if isinstance(urls, Mapping):
        return [u for value in urls.values() for u in flatten_urls(value)]
    return []


def hosts_of(urls: Any) -> set[str]:
    """The hosts of every URL in `urls` (unparseable ones are skipped: they name no host)."""
    hosts = set()
    for url in flatten_urls(urls):
        try:
            hosts.add(parse_host(url))
        except UnsafeUrl:
            continue
    return hosts


def worst(kinds: Iterable[str]) -> str:
    """The most dangerous kind among `kinds` (IN_PROCESS when there are none)."""
    return max(kinds, key=KINDS.index, default=IN_PROCESS)
