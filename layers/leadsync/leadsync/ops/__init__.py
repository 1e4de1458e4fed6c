"""Operator commands behind the `leadsync` command line, one module each: `cli` parses and
dispatches; `plan` shows what the next run would do and cost without writing, `replay` sends
what failed (dead letters, error-store entries) back through the upload once after a fix,
`backfill` brings in chats from a past date through the same fetch as the hourly run,
`erase` queues erasures from a file (read by `erasure/`), and `check` runs `readiness/`.
`stack` is how they reach a deployed stack.
"""
