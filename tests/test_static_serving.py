"""The standalone project serves its static files itself: the storefront widget loads from
gunicorn with DEBUG off (whitenoise), with no separate web server in front."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_with_debug_off_serves_the_widget_compressed(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "static-test-secret-key",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    python = Path(sys.executable)
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    port = free_port()
    server = subprocess.Popen(
        [python.parent / "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/static/backorders/widget.js", headers={"Accept-Encoding": "gzip"}
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                response = urllib.request.urlopen(request, timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/javascript")
            assert response.headers["Content-Encoding"] == "gzip"
            # Themes load it from another origin.
            assert response.headers["Access-Control-Allow-Origin"] == "*"
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/static/backorders/widget.css", timeout=5
        ) as css:
            assert b".backorders-badge" in css.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
