"""Webhooks sent over HTTP(S) with httpx: no redirects followed, no private destinations.

The name is resolved here and the request goes to the address that was checked
(the ``Host`` header and TLS's SNI and certificate check keep the name), so a
name that resolves to a public address for the check and a private one for the
connection (DNS rebinding) cannot reach the inside. Loopback, private,
link-local (cloud metadata at 169.254.169.254), carrier-grade NAT and reserved
addresses are refused unless ``allow_private`` (tests, a private deployment).

httpx comes with the api and cluster extras and is imported when a webhook is sent, so an
install without them runs every other command; its worker leaves deliveries waiting.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from .base import Sent, missing

TIMEOUT = 10.0
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


class HttpxWebhookSender:
    def __init__(self, *, allow_private: bool = False, timeout: float = TIMEOUT) -> None:
        self.allow_private = allow_private
        self.timeout = timeout

    def _resolve(self, url: str) -> Address | str:
        """The address to connect to, or why there is none."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return f"cannot resolve {host}"
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
        chosen = next((a for a in addresses if self.allow_private or public(a)), None)
        if chosen is None:
            return f"{host} resolves to a private address: refused"
        return chosen

    def refuses(self, url: str) -> str:
        chosen = self._resolve(url)
        return chosen if isinstance(chosen, str) and "private" in chosen else ""

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Sent:
        try:
            import httpx
        except ModuleNotFoundError as exc:
            raise missing(exc) from None
        chosen = self._resolve(url)
        if isinstance(chosen, str):
            return Sent(None, chosen)
        parts = urlsplit(url)
        host, secure = parts.hostname or "", parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        where = f"[{chosen}]" if chosen.version == 6 else str(chosen)
        target = parts._replace(netloc=f"{where}:{port}").geturl()
        sent_headers = {**headers, "Host": parts.netloc.rsplit("@", 1)[-1]}
        try:
            with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
                reply = client.post(
                    target,
                    content=body,
                    headers=sent_headers,
                    extensions={"sni_hostname": host} if secure else {},
                )
        except httpx.HTTPError as exc:
            return Sent(None, f"{type(exc).__name__}: {exc}"[:300])
        return Sent(reply.status_code)
