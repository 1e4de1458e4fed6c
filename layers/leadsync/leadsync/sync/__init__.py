"""The sync of chats into leads, in two stages joined by a queue: `fetch/` reads the new chats
every hour and queues the writes they need, `upload/` takes one queue message at a time and
makes those writes in Marketo. Both speak `messages` (the queue message, the only thing that
crosses from one stage to the other); `failures` is what the error store keeps about a record
that could not get through, for the digest (`report/`) and for `leadsync replay` (`ops/`).
"""
