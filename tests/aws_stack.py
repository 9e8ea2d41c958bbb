"""AWS resources for tests, made from infra/aws/template.yaml's own definitions."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from tests.conftest import AwsSession
from vodkit.adapters.catalog.dynamodb import DynamoDbCatalog
from vodkit.adapters.queue.sqs import SqsQueue
from vodkit.footprints.aws.package import TEMPLATE, load_template


def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def resource(name: str) -> dict[str, Any]:
    properties: dict[str, Any] = template()["Resources"][name]["Properties"]
    return properties


def dynamodb_catalog(aws: AwsSession) -> DynamoDbCatalog:
    """A table with the template's key schema and indexes, under a fresh name."""
    table = resource("MediaAssetsTable")
    client = aws.client("dynamodb")
    name = f"MediaAssets-{uuid.uuid4().hex[:12]}"
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
    )
    return DynamoDbCatalog(client, name)


def sqs_queue(aws: AwsSession, visibility: int = 1) -> SqsQueue:
    """A queue and its DLQ with the template's redrive policy, under fresh names."""
    client = aws.client("sqs")
    suffix = uuid.uuid4().hex[:12]
    dlq = client.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = resource("ProcessingQueue")["RedrivePolicy"]
    url = client.create_queue(
        QueueName=f"queue-{suffix}",
        Attributes={
            "VisibilityTimeout": str(visibility),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": redrive["maxReceiveCount"]}
            ),
        },
    )["QueueUrl"]
    return SqsQueue(client, url, dlq_url=dlq)


def custom_metrics_read_by_the_template(
    namespace: str = "MediaPipeline",
) -> set[tuple[str, tuple[str, ...]]]:
    """(metric name, dimension names) of every custom metric an alarm or the dashboard reads."""
    read: set[tuple[str, tuple[str, ...]]] = set()
    resources = template()["Resources"]
    for res in resources.values():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::CloudWatch::Alarm":
            metrics = [props] + [
                m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m
            ]
            for m in metrics:
                if m.get("Namespace") == namespace:
                    read.add((m["MetricName"], tuple(d["Name"] for d in m.get("Dimensions", []))))
        if res["Type"] == "AWS::CloudWatch::Dashboard":
            body = json.loads(re.sub(r"\$\{[^}]+\}", "x", props["DashboardBody"]["Fn::Sub"]))
            for widget in body["widgets"]:
                for row in widget["properties"].get("metrics", []):
                    values = [v for v in row if isinstance(v, str)]
                    if values[0] == namespace:
                        read.add((values[1], tuple(values[2::2])))
    return read


class FakeMediaConvert:
    """CreateJob and ListJobs at the botocore level, as MediaConvert answers them.

    A ClientRequestToken is honoured for ``token_window`` seconds after its job was
    created (MediaConvert's is one minute); after that, the same token makes another job.
    ``clock`` is the fake's time, so a test can step past the window. It can be told to
    fail the next CreateJob calls, or to run code while a job is being created.
    """

    def __init__(self, token_window: float = 60.0) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}  # by MediaConvert's job id, in creation order
        self.token_window = token_window
        self.now = datetime.now(UTC)
        self.fail_next = 0
        self.during_submit: Callable[[dict[str, Any]], None] | None = None
        self.calls: dict[str, int] = {"CreateJob": 0, "ListJobs": 0}
        self._request: dict[str, Any] = {}

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def install(self, events: Any) -> None:
        """Hook into a session's (or a client's ``meta``) event system."""
        for operation in ("CreateJob", "ListJobs"):
            events.register(f"before-parameter-build.mediaconvert.{operation}", self._keep)
        events.register("before-call.mediaconvert.CreateJob", self._create)
        events.register("before-call.mediaconvert.ListJobs", self._list)

    def _keep(self, params: dict[str, Any], **_: Any) -> None:
        self._request = dict(params)  # botocore validates these next, then calls the answer

    def _create(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        self.calls["CreateJob"] += 1
        params = self._request
        if self.fail_next:
            self.fail_next -= 1
            error = {"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}
            raise ClientError(error, "CreateJob")
        token = params["ClientRequestToken"]
        recent = [
            job
            for job in self.jobs.values()
            if job["ClientRequestToken"] == token
            and (self.now - job["CreatedAt"]).total_seconds() < self.token_window
        ]
        if recent:
            job = recent[-1]
        else:
            job = {"Id": f"mc-{len(self.jobs) + 1}", "CreatedAt": self.now, **params}
            self.jobs[job["Id"]] = job
            if self.during_submit:
                self.during_submit(job)
        reply = {"Job": {"Id": job["Id"], "Status": "SUBMITTED", "CreatedAt": job["CreatedAt"]}}
        return AWSResponse("https://mediaconvert.invalid", 201, {}, None), reply

    def _list(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        self.calls["ListJobs"] += 1
        params = self._request
        jobs = sorted(self.jobs.values(), key=lambda j: j["CreatedAt"])
        if params.get("Order", "DESCENDING") == "DESCENDING":
            jobs.reverse()
        start = int(params.get("NextToken") or 0)
        size = int(params.get("MaxResults") or 20)
        page = [
            {"Id": j["Id"], "CreatedAt": j["CreatedAt"], "UserMetadata": j["UserMetadata"]}
            for j in jobs[start : start + size]
        ]
        reply: dict[str, Any] = {"Jobs": page}
        if start + size < len(jobs):
            reply["NextToken"] = str(start + size)
        return AWSResponse("https://mediaconvert.invalid", 200, {}, None), reply

    def by_token(self) -> dict[str, dict[str, Any]]:
        """The jobs by ClientRequestToken (the vodkit job id): one each, if all is well."""
        return {job["ClientRequestToken"]: job for job in self.jobs.values()}
