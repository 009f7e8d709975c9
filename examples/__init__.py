"""Example relying parties that use Login with Miles & More."""
