"""What the security page tells about a session: device, browser and the network it came from.

The address is cut before it is stored: an IPv4 address to its /24 and an IPv6
address to its /48, which names the provider's network (roughly the place)
but not the member's line. The full address is never written to the session.
``request.remote_addr`` is already the client's own address when the provider
runs behind trusted proxies (``IDP_TRUSTED_PROXIES``: Werkzeug's ProxyFix in
``idp.app``), so the proxy's address is never taken for the member's.

Device and browser come from the user agent string, read with ``ua-parser``
(the maintained rules of the Browserscope/uap-core project).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

IPV4_PREFIX = 24
IPV6_PREFIX = 48


def address_prefix(address: str | None) -> str | None:
    """``192.0.2.0/24`` or ``2001:db8:1::/48`` for an address; None when it is not one."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    length = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{length}", strict=False))


def shown_prefix(prefix: str | None) -> str | None:
    """How a stored prefix is shown: ``192.0.2.x``, or the IPv6 network as it is."""
    if not prefix:
        return None
    try:
        network = ipaddress.ip_network(prefix)
    except ValueError:
        return None
    if network.version == 4:
        return ".".join(str(network.network_address).split(".")[:3]) + ".x"
    return str(network)


@dataclass(frozen=True)
class Device:
    """What the user agent says: each part None when it does not say."""

    browser: str | None
    system: str | None
    device: str | None


@lru_cache(maxsize=512)
def device_of(user_agent: str | None) -> Device:
    result = parse(user_agent or "")
    browser = result.user_agent.family if result.user_agent else None
    if browser and result.user_agent.major:
        browser = f"{browser} {result.user_agent.major}"
    system = result.os.family if result.os else None
    device = None
    if result.device and result.device.family not in ("Other", "Spider"):
        device = " ".join(p for p in (result.device.brand, result.device.model) if p) or None
        device = device or result.device.family
    return Device(
        browser=None if browser == "Other" else browser,
        system=None if system == "Other" else system,
        device=device,
    )
