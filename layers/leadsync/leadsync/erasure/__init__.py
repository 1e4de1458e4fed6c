"""Deletes of erased visitors. Erasure requests (`request`) come from a file (`files`), the
erasure queue, or chats whose customer is marked by a session field or a tag (`chats`);
`deletes` collapses them and plans the Marketo deletes of every lead an erased e-mail holds,
at most 300 a call. The fetch queues those deletes beside the run's writes
(`sync/fetch/operations`); `leadsync erase` (`ops/cli`) feeds the erasure queue.
"""
