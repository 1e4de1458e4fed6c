"""What the admin reads, at the end of a chat's path: `digest_job` gathers what failed since
the last digest (the error store and the dead-letter queue) with the day's `totals` and mails
it; `digest` makes that e-mail: `failures` grouped by cause, `digest_view` what it says,
`digest_text` and `digest_html` its two parts, every untrusted value through `cleaning`.
`health` answers GET /health with each probe explained. `ports` are what the digest needs
from the state table, the queues and SES.
"""
