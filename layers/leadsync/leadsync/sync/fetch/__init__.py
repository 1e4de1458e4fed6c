"""The hourly fetch, the first stage of a chat's path: `run` reads LiveChat since the
high-water mark (`sources/`), maps the chats to canonical visitors (`mapping/`) and looks them
up in Marketo; `decide` says, field by field under the field map's policies, what each visitor
would change, and `writes` keeps the records worth writing. `email_changes` follows customers
whose address changed, `operations` adds the list-membership and delete messages,
`marketo_calls` turns list changes into calls and counts what a sync costs, and `batching`
packs it all into messages that fit one Marketo call and one SQS message. `ports` are what the
fetch alone needs (the archives, its state). Next stop: the SyncQueue and `sync/upload/`, or
`bulk/` for large volumes.
"""
