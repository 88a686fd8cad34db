"""Bodies of the health probes."""

import marshmallow as ma


class HealthOut(ma.Schema):
    """Probe result."""

    status = ma.fields.String()
    database = ma.fields.String()
