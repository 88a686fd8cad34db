"""Scripted imports: spreadsheets and JSON files loaded through the API's own rules.

``parsing`` turns a file (CSV, JSON array, NDJSON, .xlsx) into numbered rows, streamed;
``columns`` matches headers to fields and turns spreadsheet cells into what the schemas load;
one module per resource (``members``, ``contacts``) validates a chunk of rows with the API's
schemas and service rules and writes it; ``runner`` chunks, counts and commits; ``report``
is what the client reads back.
"""
