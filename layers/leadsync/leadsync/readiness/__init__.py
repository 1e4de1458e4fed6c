"""Is the instance ready for leadsync: fields, lists, permissions, webhooks, mail.

`fields` compares the field map with the lead schema (pure); `gate` stops a function
before any write when a mapped field is missing; `checks` and `fixes` are `leadsync check`.
"""
