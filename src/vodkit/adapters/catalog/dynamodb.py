"""The DynamoDB catalog (AWS footprint): one item per asset, conditional writes.

The item keeps the original design's attributes (``assetId``, ``status``,
``uploaderId``, ``sourceKey``, ``createdAt``, ``updatedAt``, ``jobIds``,
``formats``, ``outputs``, ``errors``) plus the asset's ``jobs`` and a
``version``. Every update reads the item, applies one of the pure transitions
and writes it back on the condition that ``version`` is still the one it read:
of two writers racing (the last two jobs completing at once), exactly one
wins and the other re-reads and re-decides, so the asset turns COMPLETED
exactly once and a FAILED one is never written again. ``StatusIndex`` and
``UploaderIndex`` serve the queries, newest first.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from ...domain.asset import Asset, AssetStatus, Job, JobState
from ...domain.errors import AssetNotFound, TransientError
from ...domain.transitions import AssetRecord
from ..aws import aws_call, error_code
from .records import Change, RecordCatalog

T = TypeVar("T")
STATUS_INDEX = "StatusIndex"
UPLOADER_INDEX = "UploaderIndex"
MAX_ATTEMPTS = 25  # optimistic writes retried against concurrent writers
_serializer, _deserializer = TypeSerializer(), TypeDeserializer()


def _to_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    plain = json.loads(json.dumps(item), parse_float=Decimal)  # DynamoDB numbers are decimals
    return {k: _serializer.serialize(v) for k, v in plain.items()}


def _from_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {k: plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _job_item(job: Job) -> dict[str, Any]:
    return {
        "jobId": job.job_id,
        "state": str(job.state),
        "percent": job.percent,
        "etaSeconds": job.eta_seconds,
        "phase": job.phase,
        "request": job.request,
        "outputs": job.outputs,
        "updatedAt": job.updated_at,
        "runnerId": job.runner_id,
        "leaseOwner": job.lease_owner,
        "leaseUntil": job.lease_until,
        "restarts": job.restarts,
    }


def _job(item: dict[str, Any]) -> Job:
    return Job(
        job_id=str(item["jobId"]),
        state=JobState(item["state"]),
        percent=float(item.get("percent") or 0),
        eta_seconds=None if item.get("etaSeconds") is None else float(item["etaSeconds"]),
        phase=str(item.get("phase") or ""),
        request=dict(item.get("request") or {}),
        outputs=dict(item.get("outputs") or {}),
        updated_at=str(item.get("updatedAt", "")),
        runner_id=str(item.get("runnerId") or ""),
        lease_owner=str(item.get("leaseOwner") or ""),
        lease_until=float(item.get("leaseUntil") or 0),
        restarts=int(item.get("restarts") or 0),
    )


def _conditional_failure(exc: ClientError) -> bool:
    return error_code(exc) == "ConditionalCheckFailedException"


class DynamoDbCatalog(RecordCatalog):
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    # reading -------------------------------------------------------------

    @aws_call
    def _read(self, asset_id: str) -> tuple[AssetRecord, int] | None:
        reply = self.client.get_item(
            TableName=self.table, Key={"assetId": {"S": asset_id}}, ConsistentRead=True
        )
        if "Item" not in reply:
            return None
        item = _from_dynamo(reply["Item"])
        jobs = tuple(_job(j) for j in item.get("jobs", []))
        return AssetRecord(Asset.from_item(item), jobs), int(item.get("version", 0))

    def get(self, asset_id: str) -> Asset | None:
        found = self._read(asset_id)
        return found[0].asset if found else None

    def jobs(self, asset_id: str) -> list[Job]:
        found = self._read(asset_id)
        return list(found[0].jobs) if found else []

    @aws_call
    def _pages(self, operation: str, **request: Any) -> Iterator[Asset]:
        for page in self.client.get_paginator(operation).paginate(TableName=self.table, **request):
            for item in page.get("Items", []):
                yield Asset.from_item(_from_dynamo(item))

    def query(
        self,
        *,
        status: AssetStatus | None = None,
        uploader_id: str | None = None,
        limit: int = 100,
        before: tuple[str, str] | None = None,
    ) -> list[Asset]:
        def wanted(asset: Asset) -> bool:
            return before is None or (asset.created_at, asset.asset_id) < before

        if uploader_id is not None:
            request: dict[str, Any] = {
                "IndexName": UPLOADER_INDEX,
                "KeyConditionExpression": "uploaderId = :u",
                "ExpressionAttributeValues": {":u": {"S": uploader_id}},
            }
            if status is not None:
                request["FilterExpression"] = "#s = :s"
                request["ExpressionAttributeNames"] = {"#s": "status"}
                request["ExpressionAttributeValues"][":s"] = {"S": str(status)}
        elif status is not None:
            request = {
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": "#s = :s",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":s": {"S": str(status)}},
            }
        else:  # no index answers "all": scan, then order
            rows = sorted(
                filter(wanted, self._pages("scan")),
                key=lambda a: (a.created_at, a.asset_id),
                reverse=True,
            )
            return rows[:limit]
        if before is not None:  # start at the cursor's time; its equals are sorted out below
            request["KeyConditionExpression"] += " AND createdAt <= :c"
            request["ExpressionAttributeValues"][":c"] = {"S": before[0]}
        assets: list[Asset] = []
        for asset in self._pages("query", ScanIndexForward=False, **request):
            assets.append(asset)
            if len(assets) >= limit:
                break
        return assets

    # writing -------------------------------------------------------------

    @aws_call
    def _put(self, record: AssetRecord, version: int | None) -> bool:
        """Write ``record`` iff the stored version is ``version`` (None: iff absent)."""
        item = {
            **record.asset.to_item(),
            "jobs": [_job_item(j) for j in record.jobs],
            "version": (version or 0) + 1,
        }
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(assetId)"}
            if version is None
            else {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(version)}},
            }
        )
        try:
            self.client.put_item(TableName=self.table, Item=_to_dynamo(item), **condition)
        except ClientError as exc:
            if _conditional_failure(exc):
                return False
            raise
        return True

    def create(self, asset: Asset) -> tuple[Asset, bool]:
        if self._put(AssetRecord(asset), None):
            return asset, True
        stored = self.get(asset.asset_id)
        assert stored is not None
        return stored, False

    def _apply(self, asset_id: str, change: Change[T]) -> T:
        for attempt in range(MAX_ATTEMPTS):
            found = self._read(asset_id)
            if found is None:
                raise AssetNotFound(f"no asset {asset_id}")
            record, version = found
            updated, result = change(record)
            if updated is None or self._put(updated, version):
                return result
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # noqa: S311 (jitter)
        raise TransientError(f"asset {asset_id}: too many concurrent writers, try again")
