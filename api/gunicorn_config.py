"""gunicorn settings, read from the environment (see README, "Running with gunicorn").

No application code runs before the fork (``preload_app`` is off), so each worker opens its
own database pool.
"""

import os

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
