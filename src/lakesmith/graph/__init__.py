"""The dataflow graph: immutable definitions in, a validated graph out; execution lives elsewhere."""
