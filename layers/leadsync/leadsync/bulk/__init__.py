"""The asynchronous bulk-import path: records staged as CSV files, submitted inside Marketo's
import slots, polled with backoff by delayed messages, and read back row by row.

- choice: REST or bulk for a run's records, with the cost of each
- staging: a run's bulk records as files in the bucket, jobs and submit messages
- csvfile: records → CSV files just under the file limit (a blank cell leaves a field as it is)
- jobs: the job model and its lifecycle
- schedule: settings, poll backoff, stuck and give-up deadlines
- delivery: one BulkQueue delivery → its step, or a body that is not a step stored and dropped
- engine: one queue message (submit, poll) → the next step; step: what every step shares
- submit: a staged file sent to Marketo (recheck: the leads leadsync wrote since go to REST)
- poll: a job at Marketo polled; read_back: a complete job's failed and warned rows stored
- matching: rows of failures.json / warnings.json → the source records, by content
- give_up: a job Marketo failed, or held past the give-up deadline
- watch: a job given up on, watched until Marketo ends it (a late import: chats read again)
- report: the jobs an admin must hear about, for the digest
"""
