"""The baked project's Procfile web command, started and stopped as Railway does."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from http_clients import Http
from processes import free_port
from railway import procfile_command, railway_build


class Server:
    """The Procfile web command, run as Railway runs it (sh -c, PORT set), in its own process group.
    A checkout without static files is first built, as Railway builds (railpack.json)."""

    def __init__(self, project, env, log_path, startup_timeout=90):
        self.project = Path(project)
        self.port = free_port()
        self.env = {**env, "PORT": str(self.port)}
        self.log_path = Path(log_path)
        self.startup_timeout = startup_timeout
        self.http = Http(f"http://127.0.0.1:{self.port}")
        self.process = None

    def build(self):
        if not (self.project / "staticfiles-manifest").exists():
            railway_build(self.project, self.env)
        return self

    def start(self, attempts=3):
        """Start and wait for /health/; another process may take the free port between
        free_port() and the server's bind (tests run in parallel): then again on a new port."""
        for attempt in range(attempts):
            try:
                return self.start_once()
            except AssertionError as error:
                if "Address already in use" not in str(error) or attempt == attempts - 1:
                    raise
                self.log.close()
                self.port = free_port()
                self.env["PORT"] = str(self.port)
                self.http = Http(f"http://127.0.0.1:{self.port}")

    def start_once(self):
        self.build()
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            ["sh", "-c", procfile_command(self.project)],
            cwd=self.project,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"web command exited {self.process.returncode}:\n{self.output()}")
            try:
                status, _, _ = self.http.get("/health/", {"Host": "healthcheck.railway.app"}, timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"web command not healthy after {self.startup_timeout}s:\n{self.output()}")

    def output(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def log_records(self):
        """Every line the server wrote, parsed as JSON (raises if one is not)."""
        return [json.loads(line) for line in self.output().splitlines() if line.strip()]

    def stop(self, sig=signal.SIGTERM, timeout=40):
        """Signal the main process as Railway does on redeploy; return its exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise
        finally:
            self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
