"""Linking Lufthansa Group ID profiles (upstream OpenID Connect providers).

Each entry of ``IDP_LHG_PROVIDERS`` is an airline's ID service, to which this
provider is an OpenID Connect relying party:

- ``upstreams``: the configured airlines and this provider's redirect URI at each;
- ``metadata``: the upstream's discovery document and key set, cached per
  process, the key set fetched again when a token names a key it lacks;
- ``id_token``: the checks of OIDC Core §3.1.3.7 on the upstream's ID token;
- ``relying_party``: the authorization request (code, PKCE S256, ``state``,
  ``nonce``) and its answer (RFC 9207 ``iss``, the code exchanged, the ID token);
- ``views``: the ``/linking`` blueprint, the start of linking and of a login
  with an airline, and the callback that finishes both.

What is stored (the links, their evidence, the requests under way) belongs to
``idp.services.linked_profiles``.
"""
