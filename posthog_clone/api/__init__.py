"""Shared DRF plumbing: authentication, permissions, the team-scoped base viewset, errors, paging, throttles."""
