"""Operator commands, one module each, behind the `leadsync` command line (`cli`): `plan`
shows what the next run would do and cost without writing, `replay` sends what failed (dead
letters, error-store entries) back through the upload once after a fix, and `backfill` brings
in chats from a past date through the same fetch as the hourly run. `leadsync check` is
`readiness/`; `leadsync erase` reads its requests with `erasure/`.
"""
