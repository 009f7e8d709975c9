"""What a side-by-side run prints: one table per endpoint and the lines below it.

``figures`` is the one JSON object ``--json`` prints; ``text`` renders the same
figures for people. A side that did not run shows ``-``.
"""

from __future__ import annotations

COLUMNS = (
    ("endpoint", 14, "<"),
    ("ours/s", 9, ">"),
    ("peer/s", 9, ">"),
    ("ratio", 6, ">"),
    ("ours p99 ms", 12, ">"),
    ("peer p99 ms", 12, ">"),
    ("ours errors", 12, ">"),
    ("peer errors", 12, ">"),
    ("ours CPU ms/req", 16, ">"),
    ("peer CPU ms/req", 16, ">"),
)


def _number(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _row(cells: list[str]) -> str:
    return "  ".join(f"{cell:{align}{width}}" for cell, (_, width, align) in zip(cells, COLUMNS, strict=True))


def endpoint_table(endpoints: dict) -> list[str]:
    lines = [_row([name for name, _, _ in COLUMNS])]
    for name, sides in endpoints.items():
        ours, peer = sides["ours"], sides.get("peer") or {}
        lines.append(_row([
            name,
            _number(ours["per_second"]),
            _number(peer.get("per_second")),
            _number(sides.get("ratio"), 2),
            _number(ours["p99_ms"], 1),
            _number(peer.get("p99_ms"), 1),
            _number(ours["errors"]),
            _number(peer.get("errors")),
            _number(ours["cpu_ms_per_request"], 2),
            _number(peer.get("cpu_ms_per_request"), 2),
        ]))
    return lines


def text(figures: dict) -> str:
    setup = figures["setup"]
    lines = [
        f"Side by side, {setup['date']}: ours = mam-idp serve ({setup['ours']}), "
        f"peer = {setup['peer']}",
        f"wrk {setup['wrk']} per endpoint, ours and the peer in alternation; "
        f"code flow: {setup['code_flow']}",
        "",
    ]
    if figures["endpoints"]:
        lines += endpoint_table(figures["endpoints"])
        lines.append("")
    login = figures.get("login")
    if login:
        lines.append(
            f"login (password + TOTP, {login['concurrency']} at once): "
            f"{login['per_second']:.1f}/s = {login['share_of_ceiling']:.0%} of the argon2 "
            f"ceiling {login['ceiling_per_second']:.1f}/s (verifications per second in one "
            f"process, {login['concurrency']} at once); {login['errors']} errors; "
            f"CPU {_number(login['cpu_ms_per_login'], 1)} ms per login"
        )
    rss = figures["rss_mib"]
    peer_rss = "" if rss["peer"] is None else f" (peer, one process: {rss['peer']:.1f} MiB)"
    lines.append(
        "RSS per worker: " + ", ".join(f"{value:.1f}" for value in rss["ours_workers"]) + " MiB"
        + peer_rss
    )
    scale = figures.get("introspection_by_live_tokens")
    if scale:
        lines += ["", "introspection (ours) by live tokens in the table:",
                  f"{'live tokens':>12}  {'req/s':>7}  {'p99 ms':>7}  {'errors':>6}  "
                  f"{'CPU ms/req':>10}  {'insert s':>8}"]
        for point in scale:
            lines.append(
                f"{point['live_tokens']:>12,}  {_number(point['per_second']):>7}  "
                f"{_number(point['p99_ms'], 1):>7}  {point['errors']:>6}  "
                f"{_number(point['cpu_ms_per_request'], 2):>10}  {point['insert_seconds']:>8.1f}"
            )
    lines += _ceiling_lines(figures)
    for note in figures["notes"]:
        lines.append(note)
    lines.append(f"\n{figures['seconds']:.0f} s in all")
    return "\n".join(lines)


def _ceiling_lines(figures: dict) -> list[str]:
    """The server's own rate next to the peer's discovery: the bound on the public documents."""
    ceiling = figures.get("server_ceiling")
    if not ceiling:
        return []
    peer_discovery = ((figures["endpoints"].get("discovery") or {}).get("peer") or {}).get("per_second")
    lines = ["", "the server alone (mam-idp serve's settings, the discovery bytes, no provider):"]
    for app, label in (("wsgi", "a bare WSGI callable"), ("flask", "an empty Flask view")):
        point = ceiling[app]
        versus = (f"; {point['per_second'] / peer_discovery:.2f}× the peer's discovery"
                  if peer_discovery else "")
        lines.append(
            f"  {label}: {_number(point['per_second'])}/s, p99 {_number(point['p99_ms'], 1)} ms, "
            f"{point['errors']} errors, CPU {_number(point['cpu_ms_per_request'], 2)} ms/req{versus}"
        )
    return lines
