"""AWS resources for tests, made from infra/aws/template.yaml's own definitions."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from tests.conftest import AwsSession
from vodkit.adapters.catalog.dynamodb import DynamoDbCatalog
from vodkit.adapters.queue.sqs import SqsQueue
from vodkit.aws_package import TEMPLATE, load_template


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
    """CreateJob at the botocore level: idempotent by ClientRequestToken, can be told to fail."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.fail_next = 0
        self.during_submit: Callable[[dict[str, Any]], None] | None = None
        self._request: dict[str, Any] = {}

    def install(self, events: Any) -> None:
        """Hook into a session's (or a client's ``meta``) event system."""
        events.register("before-parameter-build.mediaconvert.CreateJob", self._keep)
        events.register("before-call.mediaconvert.CreateJob", self._answer)

    def _keep(self, params: dict[str, Any], **_: Any) -> None:
        self._request = dict(params)  # botocore validates these next, then calls _answer

    def _answer(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        params = self._request
        if self.fail_next:
            self.fail_next -= 1
            error = {"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}
            raise ClientError(error, "CreateJob")
        token = params["ClientRequestToken"]
        if token not in self.jobs:
            self.jobs[token] = {"Id": f"mc-{len(self.jobs) + 1}", **params}
            if self.during_submit:
                self.during_submit(self.jobs[token])
        reply = {"Job": {"Id": self.jobs[token]["Id"], "Status": "SUBMITTED"}}
        return AWSResponse("https://mediaconvert.invalid", 201, {}, None), reply
