"""What every public SDK endpoint shares (capture, /flags, /decide, remote config, and later /s/ and surveys):
the callers are posthog-js and the server SDKs, authenticated only by the project API key in the request.

- ``tokens``: ``team_id_for_token(token)`` / ``team_for_token(token)``, the in-process project-API-key → team cache;
  ``token_cache_clear()``; a Team save or delete clears it (receivers connected when the module is imported).
- ``decoding``: ``decode_request`` / ``decode_payload`` (JSON, gzip, lz64, base64, lz4, `data=` forms and query),
  ``parse_json``, ``unwrap_base64``, ``compression_name``; pure.
- ``errors``: ``SDKError`` (PostHog's `{type, code, detail, attr}` body and its status) and its constructors.
- ``cors``: ``with_cors(request, response)``, the one CORS policy.
- ``http``: ``json_response``, ``error_response``, ``public_endpoint`` (decorator for plain Django views),
  ``read_body`` (size-capped), ``request_decode`` (a Django request's decoded body).
- ``views``: ``PublicSDKView``, the DRF base class (no auth, no throttling, CORS, SDKError → error answer).

Plumbing: imports Django, DRF and ``posthog_clone.accounts``, never an app.
"""
