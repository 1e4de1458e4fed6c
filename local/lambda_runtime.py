"""Runs the deployed functions the way Lambda would, each execution environment a process.

The code comes from the stack itself: the zips the template's functions and layers point at
are read back from the emulated S3 and unpacked, the handler and environment are the ones the
emulated Lambda service holds. Only the endpoint and the credentials say that this is local.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local.processes import wait_or_kill
from local.stack import DeployedStack

WORKER = Path(__file__).resolve().parent / "lambda_worker.py"


class InvocationError(RuntimeError):
    """The handler raised, timed out, or its environment died."""

    def __init__(self, function: str, error: dict[str, Any]) -> None:
        super().__init__(f"{function}: {error.get('errorType')}: {error.get('errorMessage')}")
        self.error = error


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    timeout: float
    memory: int
    environment: dict[str, str]
    paths: tuple[Path, ...]  # the code, then each layer's python/ folder


@dataclass
class Invocation:
    result: Any
    seconds: float


def _unzip(s3: Any, bucket: str, key: str, into: Path) -> Path:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    into.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        archive.extractall(into)
    return into


def materialize(
    stack: DeployedStack, session: boto3.session.Session, endpoint_url: str, workdir: Path
) -> dict[str, FunctionSpec]:
    """Unpack every function of the stack with its layers; keyed by logical id."""
    s3 = session.client("s3", endpoint_url=endpoint_url)
    lam = session.client("lambda", endpoint_url=endpoint_url)
    resources = stack.template["Resources"]
    specs: dict[str, FunctionSpec] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        code = _unzip(
            s3, props["Code"]["S3Bucket"], props["Code"]["S3Key"], workdir / logical_id / "code"
        )
        layer_paths = []
        for layer in props.get("Layers", []):
            layer_id = layer["Ref"]
            content = resources[layer_id]["Properties"]["Content"]
            folder = _unzip(s3, content["S3Bucket"], content["S3Key"], workdir / layer_id)
            layer_paths.append(folder / "python")
        config = lam.get_function(FunctionName=stack.resources[logical_id])["Configuration"]
        env = {k: str(v) for k, v in config.get("Environment", {}).get("Variables", {}).items()}
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=config["FunctionName"],
            handler=config["Handler"],
            timeout=float(config["Timeout"]),
            memory=int(config["MemorySize"]),
            environment=env,
            paths=(code, *layer_paths),
        )
    return specs


@dataclass
class WorkerProcess:
    """One warm execution environment of one function."""

    spec: FunctionSpec
    aws_env: dict[str, str]
    log_path: Path
    # folders searched before the function's own: the runtime's sitecustomize (its clock)
    site_paths: tuple[Path, ...] = ()
    process: subprocess.Popen[str] = field(init=False)
    _answers: Any = field(init=False)
    # set when something outside the function killed it (`FunctionPool.kill_busy`)
    signalled: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        read_fd, write_fd = os.pipe()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "PYTHONPATH": os.pathsep.join(str(p) for p in (*self.site_paths, *self.spec.paths)),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": str(self.spec.paths[0]),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_FUNCTION_NAME": self.spec.name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.spec.timeout),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.spec.memory),
            "_HANDLER": self.spec.handler,
            "LEADSYNC_WORKER_FD": str(write_fd),
            **self.aws_env,
            **self.spec.environment,
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("a", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(self.spec.paths[0]),
            pass_fds=(write_fd,),
            text=True,
        )
        log.close()
        os.close(write_fd)
        self._answers = os.fdopen(read_fd, "r")
        ready = self._read_answer(deadline=time.monotonic() + 60)
        if not ready.get("ready"):
            raise InvocationError(
                self.spec.name, {"errorType": "InitError", "errorMessage": str(ready)}
            )

    def _read_answer(self, deadline: float) -> dict[str, Any]:
        result: dict[str, Any] = {}
        done = threading.Event()

        def read() -> None:
            line = self._answers.readline()
            if line:
                result.update(json.loads(line))
            done.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        if not done.wait(max(0.0, deadline - time.monotonic())):
            self.kill()
            return {"error": {"errorType": "Timeout", "errorMessage": "Task timed out"}}
        if not result:
            return {
                "error": {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"exited with {self.process.wait()}",
                }
            }
        return result

    def invoke(self, event: Any) -> Invocation:
        started = time.monotonic()
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(event) + "\n")
        self.process.stdin.flush()
        answer = self._read_answer(deadline=started + self.spec.timeout)
        if "error" in answer:
            raise InvocationError(self.spec.name, answer["error"])
        return Invocation(answer.get("result"), time.monotonic() - started)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait()

    def signal_kill(self) -> None:
        """SIGKILL the environment, as a host failure would, without waiting for it."""
        self.signalled = True
        if self.alive:
            self.process.kill()

    def close(self) -> None:
        if self.alive and self.process.stdin is not None:
            self.process.stdin.close()
            wait_or_kill(self.process, timeout=5)
        self._answers.close()


class FunctionPool:
    """The execution environments of one function, at most `limit` at once (its concurrency)."""

    def __init__(
        self,
        spec: FunctionSpec,
        aws_env: dict[str, str],
        log_dir: Path,
        limit: int,
        site_paths: tuple[Path, ...] = (),
    ) -> None:
        self.spec = spec
        self._aws_env = aws_env
        self._site_paths = site_paths
        self._log_dir = log_dir
        self._idle: list[WorkerProcess] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(limit)
        self._count = 0
        # environments inside an invocation: id(worker) -> (worker, when it started)
        self._busy: dict[int, tuple[WorkerProcess, float]] = {}
        # invocations that ended because `kill_busy` killed their environment mid-way
        self.interrupted = 0

    def invoke(self, event: Any) -> Invocation:
        with self._slots:
            worker = self._checkout()
            with self._lock:
                self._busy[id(worker)] = (worker, time.monotonic())
            try:
                return worker.invoke(event)
            except InvocationError as exc:
                if worker.signalled and exc.error.get("errorType") == "Runtime.ExitError":
                    with self._lock:
                        self.interrupted += 1
                raise
            finally:
                with self._lock:
                    self._busy.pop(id(worker), None)
                self._checkin(worker)

    def kill_busy(self, min_seconds: float = 0.0, rng: random.Random | None = None) -> int | None:
        """SIGKILL one environment that has been inside an invocation for at least
        `min_seconds`; its pid, or None when there is none. The invocation fails with
        Runtime.ExitError, as Lambda reports an environment that died."""
        now = time.monotonic()
        with self._lock:
            candidates = [
                worker
                for worker, started in self._busy.values()
                if now - started >= min_seconds and worker.alive and not worker.signalled
            ]
            if not candidates:
                return None
            worker = (rng or random.Random()).choice(candidates)
            worker.signal_kill()
            return worker.process.pid

    def _checkout(self) -> WorkerProcess:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
                worker.close()
            self._count += 1
            number = self._count
        log = self._log_dir / f"{self.spec.logical_id}-{number}.log"
        return WorkerProcess(self.spec, self._aws_env, log, self._site_paths)

    def _checkin(self, worker: WorkerProcess) -> None:
        with self._lock:
            if worker.alive:
                self._idle.append(worker)
            else:
                worker.close()

    def close(self) -> None:
        with self._lock:
            for worker in self._idle:
                worker.close()
            self._idle.clear()
