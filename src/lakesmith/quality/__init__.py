"""Data quality: expectations evaluated on every batch a flow writes."""
