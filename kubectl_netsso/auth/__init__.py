"""SSO login and the kubectl credential plugin.

Public API for other helpers (stable):

- ``settings.ProviderSettings`` (``from_exec_args(args, env)`` rebuilds it from a kubeconfig exec stanza; ``cache_key()``)
- ``cache.load_cached(settings) -> TokenSet | None`` and ``cache.open_cache(settings)`` (which entry: ``.describe()``)
- ``tokens.decode_claims(jwt) -> dict`` (unverified), ``tokens.TokenSet`` (``id_token``, ``claims``, ``expires_at``,
  ``is_valid(margin)``)
- ``credentials.get_token(settings, interactive=False) -> TokenSet``: cached -> refresh -> login (same rules as
  ``get-token``), raises ``NetssoError`` (exit 3) with "login required" when a login is needed but not allowed.

This package's ``__init__`` imports nothing: ``execcred.fast_path`` must stay stdlib only.
"""
