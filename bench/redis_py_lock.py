"""redis-py's Lock as a reference line for the Redis tier's uncontended lock (bench/NOTES.md).

Starts a private redis-server on a free 127.0.0.1 port (no persistence), times N uncontended
acquire/release pairs of redis_py's Lock and N raw SET NX PX + compare-and-delete EVALSHA pairs
on the same connection, and prints the median of 5 runs per operation.

    python3 -m pip install redis
    python3 bench/redis_py_lock.py
"""

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# Run from anywhere: the repository's `redis/` folder must not shadow the redis package.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.getcwd()]
import redis  # noqa: E402

N = 2000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not on PATH")
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="toro-pylock-")
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", tmp],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(200):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        lock = r.lock("py-lock", timeout=30)
        unlock = r.register_script(
            "if redis.call('get', KEYS[1]) == ARGV[1] then "
            "return redis.call('del', KEYS[1]) else return 0 end")

        def redis_py_lock():
            lock.acquire()
            lock.release()

        def raw():
            r.set("py-raw", "t", nx=True, px=30000)
            unlock(keys=["py-raw"], args=["t"])

        for name, op in [("redis-py Lock acquire + release", redis_py_lock),
                         ("SET NX PX + EVALSHA (floor, redis-py)", raw)]:
            op()
            runs = []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(N):
                    op()
                runs.append((time.perf_counter() - start) / N * 1e6)
            print(f"{name}: {statistics.median(runs):.1f} µs/op (median of 5 runs of {N})")
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
