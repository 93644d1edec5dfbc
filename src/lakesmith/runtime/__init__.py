"""Running updates: planning what to refresh, executing flows, reporting progress."""
