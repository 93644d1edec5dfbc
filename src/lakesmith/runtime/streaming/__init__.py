"""Streaming flows: micro-batches over incremental sources, checkpoints, state."""
