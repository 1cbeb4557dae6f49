"""The capture endpoints' paths (one per kind of request; a trailing slash is optional on each)."""

CAPTURE_PATHS = ("e", "i/v0/e", "capture", "track", "engage", "batch", "s")
REPLAY_KIND = "s"  # session replay snapshots (`$snapshot` events)
