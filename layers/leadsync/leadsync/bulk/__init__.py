"""The asynchronous bulk-import path: records staged as CSV files, submitted inside Marketo's
import slots, polled with backoff by delayed messages, and read back row by row.

- csvfile: records → CSV files just under the file limit (a blank cell leaves a field as it is)
- matching: rows of failures.json / warnings.json → the source records, by content
- jobs: the job model and its lifecycle
- schedule: settings, poll backoff, stuck and give-up deadlines
- engine: one queue message (submit, poll) → the next step
- delivery: one BulkQueue delivery → its step, or a body that is not a step stored and dropped
- choice: REST or bulk for a run's records, with the cost of each; staging of bulk jobs
"""
