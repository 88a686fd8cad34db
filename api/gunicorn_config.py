"""gunicorn settings, read from the environment (see README, "Running with gunicorn").

No application code runs before the fork (``preload_app`` is off), so each worker opens its
own database pool.
"""

import gc
import os
from typing import Any

bind = os.environ.get("MRM_BIND", "127.0.0.1:8000")
# Chosen from bench/ measurements (README, "Benchmarks"): gthread keeps HTTP keep-alive (the
# sync worker closes every connection); a worker's threads share one GIL, so past two threads
# they add contention rather than throughput. Scale with processes: about two per core.
workers = int(os.environ.get("MRM_WORKERS", "4"))
worker_class = os.environ.get("MRM_WORKER_CLASS", "gthread")
threads = int(os.environ.get("MRM_THREADS", "2"))
keepalive = int(os.environ.get("MRM_KEEPALIVE", "5"))
timeout = int(os.environ.get("MRM_TIMEOUT", "30"))
graceful_timeout = 20
max_requests = int(os.environ.get("MRM_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
preload_app = False
accesslog = None  # the app writes its own JSON access log with the request id
errorlog = "-"
loglevel = os.environ.get("MRM_LOG_LEVEL", "info").lower()

# gunicorn answers an over-long request line (414) or header (431/400) itself, in HTML, before
# the app can answer in problem+json: make the limits hold every request the spec allows. The
# longest is a list with a 2,000-character cursor (base64url, never percent-encoded) plus every
# filter at its maximum length in 4-byte UTF-8 characters percent-encoded (12 bytes each): under
# 5,500 bytes (tests/foundation/test_gunicorn_config.py computes it from the spec). 8190 is the
# most gunicorn accepts for the request line.
limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 100

# gunicorn >= 25.1 opens a control socket at ~/.gunicorn/gunicorn.ctl (or under
# $XDG_RUNTIME_DIR): a second instance on the machine would take over the first one's. Off
# unless MRM_CONTROL_SOCKET names a path for this instance.
control_socket_disable = not os.environ.get("MRM_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["MRM_CONTROL_SOCKET"]


def post_worker_init(_worker: Any) -> None:
    """Once a worker has loaded the app, move everything it holds out of the garbage
    collector's reach (``gc.freeze``).

    The app's objects (models, schemas, the OpenAPI spec: some 300,000) never become garbage,
    yet every full collection walks them all: measured 117 ms, during which the worker's
    threads all wait, against 0.2 ms once they are frozen. Those pauses were the slowest
    requests under load. Garbage made by requests is still collected as before.
    """
    gc.collect()
    gc.freeze()
