"""`leadsync erase --file PATH|s3://bucket/key`: every address of a file on the stack's
erasure queue, once; the next run deletes the leads Marketo holds for them. Bad lines are
said by number, masked; nothing is printed in clear."""

from __future__ import annotations

import argparse
import json

from leadsync.ops.stack import UsageError, client, session, stack_outputs


def command(args: argparse.Namespace) -> bool:
    """Queue the file's erasure requests; True when every line was an address."""
    from leadsync.adapters.erasures import read_erasure_file, s3_text_reader
    from leadsync.adapters.queue import SqsQueue

    aws = session(args)
    url = args.erasure_queue_url
    if args.stack:
        url = stack_outputs(client(aws, "cloudformation"), args.stack).get("ErasureQueueUrl")
        if not url:
            raise UsageError(f"stack {args.stack!r} has no output ErasureQueueUrl")
    reader = s3_text_reader(client(aws, "s3")) if args.file.startswith("s3://") else None
    parsed = read_erasure_file(args.file, read_text=reader)
    for problem in parsed.problems:
        print(f"  line {problem.line}: {problem.reason} ({problem.masked or '-'})")
    sent = 0
    if not args.dry_run and parsed.requests:
        queue = SqsQueue(url, client(aws, "sqs"))
        sent = queue.send_messages(
            [
                (
                    request.fingerprint,
                    json.dumps(
                        {
                            "email": request.email,
                            "requested_at": request.requested_at.isoformat(),
                            "reference": request.reference,
                        }
                    ),
                )
                for request in parsed.requests
            ]
        )
    print(
        f"erase: requests={len(parsed.requests)} queued={sent} bad_lines={len(parsed.problems)} "
        f"duplicates={parsed.duplicates} dry_run={str(args.dry_run).lower()}",
        flush=True,
    )
    return not parsed.problems
