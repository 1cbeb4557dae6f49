"""SDK-endpoint tests start with empty in-process caches (team ids and tokens are reused between tests), as the
flag tests do."""

from tests.flags.conftest import _empty_flag_caches  # noqa: F401  (an autouse fixture)
