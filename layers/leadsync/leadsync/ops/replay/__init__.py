"""`leadsync replay`: after a fix, send what failed back through the upload, once.

Gathered:
- dead letters: batches whose deliveries were spent, each carrying its failure history;
- error-store entries of kind `undeliverable` not replayed yet: records Marketo refused, or
  that could not be queued;
- entries of kind `rejected` are counted only: a chat that could not become a visitor has no
  record to send. Fix it at the source, then rewind the fetch mark to read the chats again.

Sent to the sync queue: each dead letter's batch as it was, its history kept, with `attempts`
back to 0 and no `not_before`; the error store's records batched again per correlation id,
with the entries' failures as their history. A record found more than once (the same e-mail
with the same fields) goes once: the one that failed last. Only after the sync queue has
accepted every message are the dead letters deleted and the entries marked: a crash in
between loses nothing, and a repeat sends again what the upload writes without a duplicate
(creates under a claim, 1005 → an update decided again, updates by id).

`run` is the replay itself; `gather` finds the failures, `messages` builds what is sent,
`lines` and `report` say what became of each; `command` is `leadsync replay`.
"""
