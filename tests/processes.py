"""Running commands and finding free loopback ports for what the tests start."""

import socket
import subprocess


def run(cmd, cwd, env, timeout=300, check=True):
    result = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, shell=isinstance(cmd, str)
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{cmd!r} exited {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def free_port():
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.bind(("::", 0))
        return sock.getsockname()[1]
