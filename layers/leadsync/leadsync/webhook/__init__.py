"""The near-real-time path beside the hourly fetch: `accept` answers LiveChat's webhook
deliveries well inside LiveChat's 10 s, checks and de-duplicates them, maps the chat as the
fetch does (`mapping/`), and queues its writes on the priority lane, where the priority upload
(`sync/upload/`) takes them ahead of bulk work.
"""
