"""Railway's TLS edge, stood in for by Debian's nginx on 127.0.0.1:80 and :443.

The MDN HTTP Observatory scans `https://<host>/` and `http://<host>/` on the standard ports,
so the stand-in must own them. A throwaway CA (made here with openssl, valid two days) signs
a `localhost` certificate; the scanner trusts that CA through NODE_EXTRA_CA_CERTS. Like
Railway's edge, nginx terminates TLS and forwards the scheme (X-Forwarded-Proto) and the
client address (X-Real-IP) to the app.
"""

import shutil
import subprocess
import time
from pathlib import Path

from services import reachable, unavailable

HOSTNAME = "localhost"
NGINX_CONF = """\
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    client_max_body_size 10m;
    server_tokens off;
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header Connection "";
    server {{
        listen 127.0.0.1:80;
        location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
    }}
    server {{
        listen 127.0.0.1:443 ssl;
        ssl_certificate {work}/localhost.pem;
        ssl_certificate_key {work}/localhost.key;
        location / {{ proxy_pass http://127.0.0.1:{upstream}; }}
    }}
}}
"""


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(work):
    """A throwaway CA (ca.pem) and a `localhost` server certificate it signed."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=Template tests throwaway CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=work)
    _openssl("req", *ec, "-keyout", "localhost.key", "-out", "localhost.csr", "-subj", "/CN=localhost",
             cwd=work)
    (Path(work) / "localhost.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
    )
    _openssl("x509", "-req", "-in", "localhost.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-out", "localhost.pem", "-extfile", "localhost.ext", cwd=work)
    return Path(work) / "ca.pem"


class TlsEdge:
    """nginx on 127.0.0.1:80/443 in front of 127.0.0.1:<upstream>, in the foreground."""

    def __init__(self, workdir, upstream_port):
        self.work = Path(workdir)
        self.upstream = upstream_port
        self.process = None
        self.ca = None

    def start(self):
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if not nginx or not shutil.which("openssl"):
            unavailable("nginx and openssl are needed for the TLS edge (apt-get install nginx-light)")
        for port in (80, 443):
            if reachable("127.0.0.1", port):
                unavailable(f"127.0.0.1:{port} is already in use: the TLS edge needs it")
        self.work.mkdir(parents=True, exist_ok=True)
        self.ca = make_certificates(self.work)
        conf = self.work / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=self.work, upstream=self.upstream))
        self.process = subprocess.Popen(
            [nginx, "-p", str(self.work), "-e", str(self.work / "error.log"), "-c", str(conf),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while not (reachable("127.0.0.1", 80) and reachable("127.0.0.1", 443)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("nginx did not start:\n" + self.error_log())
            time.sleep(0.1)
        return self

    def error_log(self):
        log = self.work / "error.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()  # nginx: SIGTERM is a fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
