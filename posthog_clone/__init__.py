"""posthog_clone: a PostHog-compatible analytics backend."""
