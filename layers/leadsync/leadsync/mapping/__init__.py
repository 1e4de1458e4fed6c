"""From a source's objects to the canonical model, and from the model to destination fields:
`livechat_to_visitor` maps LiveChat chats to visitors, `sanitize` cleans every untrusted text
on the way, and `fieldmap` (with `field_map.toml`, the file users edit) says which visitor
attribute goes to which Marketo field under which write policy. Pure; the fetch and the
webhook call it right after reading a chat.
"""
