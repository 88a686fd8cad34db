"""``/docs`` renders in a real browser under its Content-Security-Policy (when Chromium is here).

A policy that blocked Swagger UI's scripts or its start-up script would leave an empty page;
headless Chromium shows what a user would see.
"""

import shutil
import subprocess
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_docs_render_in_headless_chromium(app, backend):
    if backend != "sqlite":
        pytest.skip("the page does not depend on the database")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--virtual-time-budget=15000",
                "--dump-dom",
                f"http://127.0.0.1:{server.server_port}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.shutdown()
    dom = result.stdout
    assert "opblock" in dom, result.stderr[-2000:]  # the operations were drawn
    assert "/api/v1/auth/token" in dom
    assert "validator.swagger.io" not in dom  # no validator badge
