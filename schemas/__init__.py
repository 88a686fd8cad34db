"""marshmallow schemas: one class per distinct body, query string or response."""
