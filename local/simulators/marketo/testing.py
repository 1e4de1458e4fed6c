"""A tiny standard-library client for tests, benchmarks and the local world's checks.

It is deliberately not the product's Marketo client: it sends exactly what it is told.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode


class SimClient:
    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None

    def identity(
        self, client_id: str | None = None, secret: str | None = None, method: str = "GET"
    ) -> tuple[int, Any]:
        query = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id if client_id is None else client_id,
                "client_secret": self.client_secret if secret is None else secret,
            }
        )
        return self.request(method, f"/identity/oauth/token?{query}", auth=False)

    def token(self, refresh: bool = False) -> str:
        if self._token is None or refresh:
            status, body = self.identity()
            if status != 200:
                raise RuntimeError(f"identity failed: {status} {body}")
            self._token = str(body["access_token"])
        return self._token

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        form: dict[str, Any] | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, Any]:
        """(HTTP status, parsed JSON or text)."""
        url = self.base_url + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        sent = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            sent.setdefault("Content-Type", "application/json")
        elif form is not None:
            data = urlencode(form, doseq=True).encode("utf-8")
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if auth:
            sent["Authorization"] = f"Bearer {token or self.token()}"
        status, body = self._send(url, method, data, sent, timeout)
        if auth and token is None and _token_error(body):
            # like every Marketo client: a new token, the call replayed once
            sent["Authorization"] = f"Bearer {self.token(refresh=True)}"
            status, body = self._send(url, method, data, sent, timeout)
        return status, body

    @staticmethod
    def _send(
        url: str, method: str, data: bytes | None, headers: dict[str, str], timeout: float
    ) -> tuple[int, Any]:
        req = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback only
                return resp.status, _decode(resp.read(), resp.headers.get_content_type())
        except urllib.error.HTTPError as err:
            return err.code, _decode(err.read(), err.headers.get_content_type())

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)[1]

    def post(self, path: str, body: Any, **params: Any) -> Any:
        return self.request("POST", path, params=params, json_body=body)[1]

    def delete(self, path: str, body: Any, **params: Any) -> Any:
        return self.request("DELETE", path, params=params, json_body=body)[1]

    def sim(self, method: str, path: str, body: Any = None) -> Any:
        return self.request(method, path, json_body=body, auth=False)[1]

    def upsert(self, leads: list[dict[str, Any]], **body: Any) -> Any:
        return self.post("/rest/v1/leads.json", {"input": leads, **body})

    def bulk_import(self, content: bytes, fields: dict[str, str]) -> tuple[int, Any]:
        boundary = "simboundary7c1f"
        chunks: list[bytes] = []
        for name, value in fields.items():
            chunks.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="leads.csv"\r\nContent-Type: text/csv\r\n\r\n'.encode()
            + content
            + b"\r\n"
        )
        chunks.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "POST",
            "/bulk/v1/leads.json",
            data=b"".join(chunks),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )


def _token_error(body: Any) -> bool:
    if not isinstance(body, dict) or body.get("success") is not False:
        return False
    return any(e.get("code") in {"601", "602"} for e in body.get("errors", []))


def _decode(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8", "replace")
    if content_type == "application/json":
        return json.loads(text) if text else None
    return text
