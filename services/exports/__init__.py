"""Exports: every row a list's filters select, streamed as CSV or NDJSON in constant memory."""
