"""The second stage of a chat's path: one message from the SyncQueue (or the priority queue)
becomes Marketo writes that never duplicate a lead. `run` claims creates, writes through the
guarded client (`marketo/guard`, behind the shared `limiter/`), gives work back to the queue
when the budget or the breaker says wait or a call keeps failing, stores what Marketo refuses
in the error store, and sends spent batches to the dead-letter queue with their history.
`delivery` takes one SQS delivery to `run`, or a body that is not a batch to the dead-letter
queue as it came. `ports` are what the upload alone needs (claims, ledger, lead directory,
queues). After it, `report/` tells the admin and `ops/replay` sends the failures back.
"""
