"""The second stage of a chat's path: one message from the SyncQueue (or the priority queue)
becomes Marketo writes that never duplicate a lead. `run` takes one message through: its
lead writes (`writes`: creates under claims, updates by id, through the guarded client,
`marketo/guard`, behind the shared `limiter/`), decided again first when the delivery may
repeat work (`recheck`), or its list operation or delete (`operations`). `giveback` sends
what is not done back to the queue when the budget or the breaker says wait or a call keeps
failing, and spent batches to the dead-letter queue with their history; `outcome` keeps
what the run learnt (what Marketo refused in the error store) and counts its result.
`state` is what one delivery tracks while it runs. `delivery` takes one SQS delivery to
`run`, or a body that is not a batch to the dead-letter queue as it came. `ports` are what
the upload alone needs (claims, ledger, lead directory, queues). After it, `report/` tells
the admin and `ops/replay` sends the failures back.
"""
