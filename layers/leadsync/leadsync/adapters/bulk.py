"""The bulk path's AWS side: jobs and import slots in the state table, staged files in the
bulk bucket, step messages on the bulk queue.

State table items:
- `bulk#job` / `<job id>`: the job (JSON), its status and version (the optimistic lock);
  finished jobs expire after JOB_RETENTION.
- `bulk#slots` / `marketo`: the string set of the job ids holding one of leadsync's slots
  in Marketo's import queue; a claim adds its id only while the set is under the limit.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import put_unless, query_all, translate_error, update_unless
from leadsync.bulk.jobs import BulkJob, BulkMessage, JobStatus, StagedFile
from leadsync.errors import LeadsyncError, NotFound
from leadsync.runtime.clock import Clock, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef
    from mypy_boto3_s3 import S3Client

JOB_PK = "bulk#job"
SLOTS_KEY = {"pk": {"S": "bulk#slots"}, "sk": {"S": "marketo"}}
JOB_RETENTION = timedelta(days=35)

Item = dict[str, "AttributeValueTypeDef"]


class DynamoDBJobStore:
    def __init__(
        self, table_name: str, client: DynamoDBClient | None = None, *, clock: Clock = utc_now
    ) -> None:
        self._table = table_name
        self._client = client or aws.dynamodb()
        self._clock = clock

    def create(self, job: BulkJob) -> bool:
        return put_unless(
            self._client,
            TableName=self._table,
            Item=self._item(job.model_copy(update={"version": 0})),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def get(self, job_id: str) -> BulkJob | None:
        try:
            answer = self._client.get_item(
                TableName=self._table, Key=_key(job_id), ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "GetItem") from exc
        item = answer.get("Item")
        return _job(item) if item else None

    def replace(self, old: BulkJob, new: BulkJob) -> bool:
        written = new.model_copy(update={"version": old.version + 1})
        return put_unless(
            self._client,
            TableName=self._table,
            Item=self._item(written),
            ConditionExpression="attribute_exists(pk) AND #version = :version",
            ExpressionAttributeNames={"#version": "version"},
            ExpressionAttributeValues={":version": {"N": str(old.version)}},
        )

    def jobs(self, statuses: Iterable[JobStatus] | None = None) -> list[BulkJob]:
        wanted = set(statuses) if statuses is not None else None
        found = [_job(item) for item in self._query()]
        return [job for job in found if wanted is None or job.status in wanted]

    def _query(self) -> Iterator[Item]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": JOB_PK}},
            "ConsistentRead": True,
        }
        return query_all(self._client, request)

    def _item(self, job: BulkJob) -> Item:
        item: Item = {
            **_key(job.job_id),
            "job": {"S": job.model_dump_json()},
            "status": {"S": job.status.value},
            "version": {"N": str(job.version)},
            "created_at": {"S": job.created_at.isoformat()},
        }
        if not job.active:
            finished = job.finished_at or self._clock()
            item["expires_at"] = {"N": str(int((finished + JOB_RETENTION).timestamp()))}
        return item


class DynamoDBImportSlots:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client = client or aws.dynamodb()

    def claim(self, job_id: str, limit: int) -> bool:
        return update_unless(
            self._client,
            TableName=self._table,
            Key=SLOTS_KEY,
            UpdateExpression="ADD jobs :job",
            ConditionExpression=(
                "attribute_not_exists(jobs) OR contains(jobs, :id) OR size(jobs) < :limit"
            ),
            ExpressionAttributeValues={
                ":job": {"SS": [job_id]},
                ":id": {"S": job_id},
                ":limit": {"N": str(limit)},
            },
        )

    def release(self, job_id: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=SLOTS_KEY,
                UpdateExpression="DELETE jobs :job",
                ExpressionAttributeValues={":job": {"SS": [job_id]}},
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "UpdateItem") from exc

    def held(self) -> list[str]:
        try:
            answer = self._client.get_item(
                TableName=self._table, Key=SLOTS_KEY, ConsistentRead=True
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "GetItem") from exc
        return sorted(answer.get("Item", {}).get("jobs", {}).get("SS", []))


_S3_PERMANENT = frozenset(
    {"AccessDenied", "NoSuchBucket", "InvalidBucketName", "KMS.DisabledException"}
)
_S3_THROTTLING = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded"}
)


def translate_s3_error(exc: Exception, action: str) -> LeadsyncError:
    """The one place where S3's errors become the project's exceptions."""
    if aws.error_code(exc) in {"NoSuchKey", "404"}:
        return NotFound(f"S3 {action}: no such staged file")
    return aws.classify(
        exc, service="S3", action=action, throttling=_S3_THROTTLING, permanent=_S3_PERMANENT
    )


class S3StagedFiles:
    """Staged files as gzipped JSON; the bucket encrypts them and expires leftovers."""

    def __init__(self, bucket: str, client: S3Client | None = None) -> None:
        self._bucket = bucket
        self._client = client or aws.s3()

    def put(self, key: str, staged: StagedFile) -> None:
        body = gzip.compress(staged.model_dump_json().encode(), compresslevel=6)
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ContentEncoding="gzip",
                ServerSideEncryption="AES256",
            )
        except AWS_ERRORS as exc:
            raise translate_s3_error(exc, "PutObject") from exc

    def get(self, key: str) -> StagedFile:
        try:
            answer = self._client.get_object(Bucket=self._bucket, Key=key)
            body = answer["Body"].read()
        except AWS_ERRORS as exc:
            raise translate_s3_error(exc, "GetObject") from exc
        return StagedFile.model_validate_json(gzip.decompress(body))

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        except AWS_ERRORS as exc:
            raise translate_s3_error(exc, "DeleteObject") from exc


class SqsBulkSender:
    def __init__(self, queue_url: str, queue: SqsQueue | None = None) -> None:
        self._queue = queue or SqsQueue(queue_url)

    def send_bulk(self, messages: Iterable[BulkMessage], delay_seconds: int = 0) -> int:
        pairs = [(m.correlation_id, m.model_dump_json()) for m in messages]
        return self._queue.send_messages(pairs, delay_seconds=delay_seconds)


def _key(job_id: str) -> Item:
    return {"pk": {"S": JOB_PK}, "sk": {"S": job_id}}


def _job(item: Item) -> BulkJob:
    job = BulkJob.model_validate_json(item["job"]["S"])
    return job.model_copy(update={"version": int(item["version"]["N"])})
