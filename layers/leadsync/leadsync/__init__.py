"""leadsync: brings LiveChat visitors into Marketo as leads, inside Marketo's limits.

One chat's path, folder by folder: `sources/` reads it, `mapping/` turns it into a canonical
visitor (`models`), `sync/fetch/` decides what it would change in Marketo and queues the
writes in batches, `sync/upload/` makes them through the one `marketo/` client and its guard
behind the shared `limiter/`, giving back or dead-lettering what cannot go through,
`report/` tells the admin what failed, and `ops/replay` sends it back after a fix. Beside that
path: `webhook/` (near real time), `bulk/` (large volumes), `lists/` and `erasure/` (list
membership and deletes), `readiness/` (`leadsync check`), `adapters/` (the only modules that
call boto3) and `runtime/` (configuration, wiring, logs, metrics). `errors`, `models` and
`ports` are the vocabulary shared by every slice.
"""
