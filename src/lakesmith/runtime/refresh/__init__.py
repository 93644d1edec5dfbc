"""How a materialized view is refreshed: the techniques Databricks names (NO_OP,
GROUP_AGGREGATE, COMPLETE_RECOMPUTE), which apply to a refresh, which one runs, and the
`planning_information` event that says so. See docs/materialized-views.md."""
