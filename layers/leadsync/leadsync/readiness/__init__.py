"""Is the instance ready for leadsync: fields, lists, permissions, webhooks, mail.

`fields` compares the field map with the lead schema (pure); `gate` stops a function
before any write when a mapped field is missing, keeping its `verdict`; `marketo_checks`
and `service_checks` are `leadsync check`, run in order by `command` and said by `report`.
"""
