"""The hourly fetch, the first stage of a chat's path: `run` takes the window since the
high-water mark and moves the mark once everything is queued; `prepare` reads LiveChat
(`sources/`), maps the chats to canonical visitors (`mapping/`) and looks them up in Marketo;
`decide` says, field by field under the field map's policies, what each visitor would
change, and `writes` keeps the records worth writing. `whole` holds the steps beyond lead
writes (erasures, e-mail changes, lists, the bulk route): `email_changes` follows customers
whose address changed, `operations` adds the list-membership and delete messages,
`marketo_calls` turns list changes into calls and counts what a sync costs, and `batching`
packs it all into messages that fit one Marketo call and one SQS message. `summary` is what
a run reports. `ports` are what the fetch alone needs (the archives, its state, the stores
of the steps beyond lead writes). Next stop: the SyncQueue and `sync/upload/`, or `bulk/`
for large volumes.
"""
