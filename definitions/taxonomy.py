"""The few taxonomy facts the definitions API needs: PostHog's core events, the event properties it never
lists, and its built-in (non-`$`) event properties."""

from __future__ import annotations

CORE_EVENTS = frozenset(
    {
        "$pageview",
        "$pageleave",
        "$autocapture",
        "$screen",
        "$identify",
        "$create_alias",
        "$groupidentify",
        "$set",
        "$feature_flag_called",
        "$feature_view",
        "$feature_interaction",
        "$rageclick",
        "$dead_click",
        "$exception",
        "$web_vitals",
        "$opt_in",
        "$snapshot",
        "$pageview_duration",
        "$survey_shown",
        "$survey_sent",
        "$survey_dismissed",
        "$ai_generation",
        "$ai_span",
        "$ai_trace",
        "$ai_embedding",
    }
)

# Event properties never offered by the property-definitions list (type=event).
HIDDEN_EVENT_PROPERTIES = frozenset(
    {
        "distinct_id",
        "$set",
        "$set_once",
        "$initial_referrer",
        "$initial_referring_domain",
        "$groups",
        "$group_type",
        "$group_key",
        "$group_set",
        *(f"$group_{i}" for i in range(5)),
    }
)
HIDDEN_EVENT_PROPERTY_PREFIXES = ("$session_entry_",)

# Built-in event properties without a `$` (campaign parameters and click ids), dropped by
# `exclude_core_properties`.
CORE_NON_DOLLAR_EVENT_PROPERTIES = frozenset(
    {
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_content",
        "utm_term",
        "gclid",
        "gad_source",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "fbclid",
        "msclkid",
        "twclid",
        "li_fat_id",
        "mc_cid",
        "igshid",
        "ttclid",
        "rdt_cid",
        "irclid",
        "_kx",
    }
)

# Display labels of common properties: `search` also matches these (PostHog's taxonomy aliases).
PROPERTY_LABELS = {
    "$browser": "Browser",
    "$browser_version": "Browser version",
    "$os": "OS",
    "$os_version": "OS version",
    "$device_type": "Device type",
    "$current_url": "Current URL",
    "$pathname": "Path name",
    "$host": "Host",
    "$referrer": "Referrer URL",
    "$referring_domain": "Referring domain",
    "$screen_height": "Screen height",
    "$screen_width": "Screen width",
    "$viewport_height": "Viewport height",
    "$viewport_width": "Viewport width",
    "$lib": "Library",
    "$lib_version": "Library version",
    "$geoip_country_name": "Country name",
    "$geoip_city_name": "City name",
    "$ip": "IP address",
    "$session_id": "Session ID",
    "$window_id": "Window ID",
    "$event_type": "Event type",
    "$feature_flag": "Feature flag",
    "$feature_flag_response": "Feature flag response",
}

GROUP_TYPES_LIMIT = 5
