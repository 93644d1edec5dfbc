"""AUTO CDC: applying a change feed to a table. `spec` resolves a flow's options against its
source's columns; `scd1` computes a batch's changes, its MERGE and its per-key state in the
engine."""
