"""Bodies of the health probes."""

import marshmallow as ma

from schemas.common import MAY_BE_ABSENT


class HealthOut(ma.Schema):
    """Probe result."""

    status = ma.fields.String()
    database = ma.fields.String(
        metadata={"description": "Only from `/readyz`.", MAY_BE_ABSENT: True}
    )
