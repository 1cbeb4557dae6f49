"""How the project secret key (phs_) appears in the OpenAPI spec (registered when the app loads)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ProjectSecretKeyScheme(OpenApiAuthenticationExtension):
    target_class = "flags.local_evaluation.ProjectSecretKeyAuthentication"
    name = "ProjectSecretAPIKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "The project's secret API key (phs_...)"}
