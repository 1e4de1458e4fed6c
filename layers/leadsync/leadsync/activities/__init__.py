"""LiveChat chats as Marketo custom activities, one per chat: `config` (with
`activity_map.toml`, the file users edit) says the activity type and which fact of a chat
goes to which attribute, `facts` reads those facts from a combined chat (`reading` holds the
parts), and `records` builds the activity and the record Marketo takes. Pure: no AWS, no
HTTP.
"""
