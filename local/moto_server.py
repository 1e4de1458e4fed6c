"""moto in server mode on loopback: `python -m local.moto_server [--port N]`.

Besides the AWS APIs it answers `GET /_local/ses/messages`: every e-mail the emulated SES
accepted, so the local world can show the mail a person would have received. moto keeps one
body part of an SES v2 simple message; the server keeps the whole content SES accepted (the
subject, the text part and the HTML part) beside it, under the message id moto answered.
"""

from __future__ import annotations

import argparse
import io
import json
import signal
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server
from werkzeug.wsgi import get_input_stream

SES_MESSAGES_PATH = "/_local/ses/messages"
# POST {"seconds": N}: N seconds pass for SQS's timers (delays, visibility timeouts), as they
# do for the functions when the local world moves their clock forward
SQS_TIME_PATH = "/_local/sqs/time-passes"
SES_V2_SEND_PATH = "/v2/email/outbound-emails"

# message id → {"subject", "text", "html"} of the SES v2 simple messages accepted
_accepted: dict[str, dict[str, str | None]] = {}
_accepted_lock = threading.Lock()


def _sent_messages() -> list[dict[str, Any]]:
    from moto.ses.models import ses_backends

    messages: list[dict[str, Any]] = []
    for account_id, regions in ses_backends.items():
        for region, backend in regions.items():
            for message in backend.sent_messages:
                raw = getattr(message, "raw_data", None)
                messages.append(
                    {
                        "account": account_id,
                        "region": region,
                        "id": message.id,
                        "source": message.source,
                        "destinations": getattr(message, "destinations", None),
                        "subject": getattr(message, "subject", None),
                        "body": getattr(message, "body", None),
                        "raw": raw,
                        **_content_of(message.id),
                    }
                )
    return messages


def _time_passes(seconds: float) -> int:
    """Every SQS message's delay and visibility timer, `seconds` nearer its end."""
    from moto.sqs.models import sqs_backends

    shift = seconds * 1000.0
    moved = 0
    for regions in sqs_backends.values():
        for backend in regions.values():
            for queue in backend.queues.values():
                for message in queue._messages:
                    if message.delayed_until > 0:
                        message.delayed_until -= shift
                        moved += 1
                    if message.visible_at > 0:
                        message.visible_at -= shift
                        moved += 1
    return moved


def _content_of(message_id: str) -> dict[str, str | None]:
    with _accepted_lock:
        content = _accepted.get(message_id)
    if content is None:
        return {"text": None, "html": None}
    return {"text": content.get("text"), "html": content.get("html")}


def _simple_content(request_body: bytes) -> dict[str, str | None] | None:
    """Subject, text and HTML of an SES v2 SendEmail request with simple content."""
    try:
        simple = json.loads(request_body)["Content"]["Simple"]
    except (ValueError, KeyError, TypeError):
        return None
    body = simple.get("Body", {})
    return {
        "subject": simple.get("Subject", {}).get("Data"),
        "text": body.get("Text", {}).get("Data"),
        "html": body.get("Html", {}).get("Data"),
    }


def _send_email_v2(
    dispatcher: DomainDispatcherApplication,
    environ: dict[str, Any],
    start_response: Callable[..., Any],
) -> Iterable[bytes]:
    """Dispatch SendEmail as usual; when SES accepts it, keep the content it was given."""
    request_body = get_input_stream(environ).read()
    environ["wsgi.input"] = io.BytesIO(request_body)
    environ["CONTENT_LENGTH"] = str(len(request_body))
    environ.pop("wsgi.input_terminated", None)
    status: list[str] = []

    def capture(code: str, headers: Any, *exc_info: Any) -> Any:
        status.append(code)
        return start_response(code, headers, *exc_info)

    answer = b"".join(dispatcher(environ, capture))
    content = _simple_content(request_body)
    if status and status[0].startswith("200") and content is not None:
        try:
            message_id = json.loads(answer)["MessageId"]
        except (ValueError, KeyError, TypeError):
            message_id = None
        if isinstance(message_id, str):
            with _accepted_lock:
                _accepted[message_id] = content
    return [answer]


def application(dispatcher: DomainDispatcherApplication) -> Callable[..., Iterable[bytes]]:
    # DynamoDB applies each request atomically (a conditional write is checked and applied
    # as one step); moto's threaded server does not, so its DynamoDB requests take turns.
    dynamodb_turn = threading.Lock()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == SES_MESSAGES_PATH:
            body = json.dumps(_sent_messages(), default=str).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if environ.get("PATH_INFO") == SQS_TIME_PATH and environ.get("REQUEST_METHOD") == "POST":
            wanted = json.loads(get_input_stream(environ).read() or b"{}")
            body = json.dumps({"moved": _time_passes(float(wanted.get("seconds", 0)))}).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if environ.get("PATH_INFO") == SES_V2_SEND_PATH and environ.get("REQUEST_METHOD") == "POST":
            return _send_email_v2(dispatcher, environ, start_response)
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with dynamodb_turn:
                return list(dispatcher(environ, start_response))
        result: Iterable[bytes] = dispatcher(environ, start_response)
        return result

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    dispatcher = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        "127.0.0.1",
        args.port,
        application(dispatcher),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"moto-server listening on http://127.0.0.1:{server.server_port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
