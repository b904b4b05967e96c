"""Load generators for bench.throughput: wrk (from Debian) driven by a Lua script that cycles through a list of
paths with a session cookie and counts every answer that is not the expected status, and a Python client (threads,
one keep-alive connection each) for flows wrk cannot script, such as a checkout; the bare page is measured with
the same client so the ratio compares like with like."""

import http.client
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

LUA = """
paths = {%(paths)s}
counter = 0
bad = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counter = math.random(#paths) end
request = function()
  counter = counter %% #paths + 1
  return wrk.format("GET", paths[counter], {["Cookie"] = "%(cookie)s"})
end
response = function(status, headers, body)
  if status ~= %(expect)d then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total_bad = 0
  for _, thread in ipairs(threads) do total_bad = total_bad + thread:get("bad") end
  io.write(string.format("BAD %%d\\n", total_bad))
  for _, p in ipairs({50, 90, 99}) do io.write(string.format("P%%d %%f\\n", p, latency:percentile(p) / 1000)) end
  io.write(string.format("REQUESTS %%d\\nSECONDS %%f\\n", summary.requests, summary.duration / 1e6))
end
"""


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    bad: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    extra: dict = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk(name: str, base_url: str, paths: list[str], *, cookie: str = "", seconds: int, connections: int,
        threads: int = 2, expect: int = 200) -> Result:
    script = LUA % {"paths": ", ".join(_lua_string(p) for p in paths), "cookie": cookie.replace('"', ""),
                    "expect": expect}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", f.name, base_url],
                             capture_output=True, text=True, check=True).stdout
    finally:
        Path(f.name).unlink()
    values = dict(re.findall(r"^(BAD|P50|P90|P99|REQUESTS|SECONDS) (\S+)$", out, re.M))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad = int(values["BAD"]) + (sum(int(n) for n in errors.groups()) if errors else 0)
    return Result(name, int(values["REQUESTS"]), float(values["SECONDS"]), bad, float(values["P50"]),
                  float(values["P90"]), float(values["P99"]))


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))] if ordered else 0.0


def python_client(name: str, host: str, port: int, step: Callable[[http.client.HTTPConnection], tuple[bool, float]],
                  *, seconds: float, connections: int, limit: int | None = None) -> Result:
    """``connections`` threads call ``step(connection)`` until the time is up (or ``limit`` steps are done);
    a step returns (ok, the latency in ms of the request it measures)."""
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    budget = [limit if limit is not None else float("inf")]

    def worker():
        connection = http.client.HTTPConnection(host, port, timeout=30)
        while time.perf_counter() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            ok, elapsed = step(connection)
            with lock:
                latencies.append(elapsed)
                bad[0] += not ok
        connection.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return Result(name, len(ordered), elapsed, bad[0], percentile(ordered, 0.5), percentile(ordered, 0.9),
                  percentile(ordered, 0.99))


def get(connection: http.client.HTTPConnection, path: str, cookie: str = "") -> tuple[int, str, float]:
    started = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    return response.status, body, (time.perf_counter() - started) * 1000


def post(connection: http.client.HTTPConnection, path: str, body: str, cookie: str) -> tuple[int, dict, float]:
    started = time.perf_counter()
    connection.request("POST", path, body=body, headers={"Cookie": cookie,
                                                         "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    return response.status, dict(response.getheaders()), (time.perf_counter() - started) * 1000
