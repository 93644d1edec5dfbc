"""Incremental sources: what a streaming read owns in each micro-batch (Delta versions, files)."""
