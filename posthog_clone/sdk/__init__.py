"""What every public SDK endpoint shares (capture, /flags, /decide, remote config, and later /s/ and surveys):
the callers are posthog-js and the server SDKs, authenticated only by the project API key in the request.

- ``tokens``: ``team_id_for_token(token)`` / ``team_for_token(token)``, the in-process project-API-key → team cache;
  ``token_cache_clear()``; a Team save or delete clears it (receivers connected when the module is imported).
- ``decoding``: ``decode_request`` / ``decode_payload`` (JSON, gzip, lz64, base64, lz4, `data=` forms and query),
  ``parse_json``, ``unwrap_base64``, ``compression_name``; pure.
- ``errors``: ``SDKError`` (PostHog's `{type, code, detail, attr}` body and its status) and its constructors.
- ``cors``: ``cors_headers(origin, requested_headers, method)``, the one CORS policy, and ``with_cors(request,
  response)`` for Django responses.
- ``native``: ``public_wsgi_app(handler)``, a public endpoint as a WSGI callable in front of Django (the fast
  paths): ``PublicRequest`` (method, query, ``read_body`` size-capped) in, ``PublicResponse`` out.
- ``http``: ``json_response``, ``request_decode`` (a Django request's decoded body).
- ``views``: ``PublicSDKView``, the DRF base class (no auth, no throttling, CORS, SDKError → error answer).

Plumbing: imports Django, DRF and ``posthog_clone.accounts``, never an app.
"""
