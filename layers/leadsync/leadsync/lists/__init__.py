"""Static list membership: `rules` (with `list_rules.toml`, the file operators edit) says
which Marketo static lists a canonical visitor belongs in. The fetch turns the difference from
what leadsync last set into list messages (`sync/fetch/operations`), the upload makes the
calls, and `leadsync check` verifies that every list named exists.
"""
