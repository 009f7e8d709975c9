"""The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2).

``checks`` validates the request in a fixed order without looking at who is
logged in; ``interaction`` then asks for a login, an approved client and the
member's consent, on pages whose URLs the application gives ``init_oauth``;
``flow`` validates each HTTP request once through Authlib's grant, resumes it
through the interaction steps in one function, and answers with a code, an
error redirect (with ``state`` and ``iss``) or an error page.
"""
