"""What the admin reads, at the end of a chat's path: `digest_job` gathers what failed since
the last digest (the error store and the dead-letter queue) with the day's totals and mails
it, `digest` renders that e-mail (text and HTML, every untrusted value cleaned), and `health`
answers GET /health with each probe explained. `ports` are what the digest needs from the
state table, the queues and SES.
"""
