"""The side-by-side benchmark: this provider and panva's oidc-provider under the same load.

``python -m bench.side_by_side`` (run by ``make bench``) starts both on
127.0.0.1 and loads them in alternation: ``ours`` runs ``mam-idp serve`` on a
database of its own, ``peer`` runs oidc-provider from ``bench/peer``,
``load`` holds the loads (wrk per endpoint, Python drivers for the flows),
``processes`` the process groups and what ``/proc`` says of them, ``report``
what is printed.
"""
