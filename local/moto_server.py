"""moto in server mode on loopback: `python -m local.moto_server [--port N]`.

Besides the AWS APIs it answers `GET /_local/ses/messages`: every e-mail the emulated SES
accepted, so the local world can show the mail a person would have received.
"""

from __future__ import annotations

import argparse
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

SES_MESSAGES_PATH = "/_local/ses/messages"


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
                    }
                )
    return messages


def application(dispatcher: DomainDispatcherApplication) -> Callable[..., Iterable[bytes]]:
    # DynamoDB applies each request atomically (a conditional write is checked and applied
    # as one step); moto's threaded server does not, so its DynamoDB requests take turns.
    dynamodb_turn = threading.Lock()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == SES_MESSAGES_PATH:
            body = json.dumps(_sent_messages(), default=str).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
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
