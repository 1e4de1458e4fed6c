"""From a source's objects to the canonical model, and from the model to destination fields:
`livechat_to_visitor` maps LiveChat chats to visitors (`livechat_chats` reads the archive
entries into chats, `merge` makes one visitor per e-mail), `sanitize` cleans every untrusted
text on the way, and `fieldmap` (with `field_map.toml`, the file users edit; `edited_file`
reads it) says which visitor attribute goes to which Marketo field under which write policy.
Pure; the fetch and the webhook call it right after reading a chat.
"""
