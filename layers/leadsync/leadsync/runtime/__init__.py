"""What every function runs on, beside the chat's path rather than on it: `config` (one
environment model per function, validated at cold start), `secrets` (credentials from Secrets
Manager), `wiring` (the one place the LiveChat and Marketo clients, the shared limiter, the
breaker, the call meter and the adapters are built), `events` (the Lambda events accepted, as
models), `observability` (structured logs that keep personal data out), `metrics`
(CloudWatch EMF) and `clock` (UTC time helpers).
"""
