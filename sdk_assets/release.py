"""The one posthog-js release this server hands to websites under /static/.

Pinned by version and by the npm registry's ``dist.integrity`` of its tarball (the SRI sha512 of the .tgz), so
an install gets these exact bytes or nothing. To upgrade: change both (``npm view posthog-js@X dist.integrity``)
and run ``manage.py fetch_sdk_assets``; the old release's directory is left in place and no longer served.
"""

from __future__ import annotations

PACKAGE = "posthog-js"
VERSION = "1.449.2"
INTEGRITY = "sha512-vji+h92IHaLlFSEnRH1hwe8uLWGOdDUImmPXexj/+V7Xm7HTxIQisYE/Kom7Aaw4DRpzfdhQxiyAN1YVYR4G8Q=="
DEFAULT_REGISTRY = "https://registry.npmjs.org"


def release_dirname(version: str = VERSION) -> str:
    return f"{PACKAGE}-{version}"
