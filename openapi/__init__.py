"""The OpenAPI spec (drf-spectacular), offline Swagger UI / Redoc, and the `validated_request` decorator."""
