"""AWS resources for tests, made from infra/aws/template.yaml's own definitions."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import AwsSession
from vodkit.adapters.catalog.dynamodb import DynamoDbCatalog
from vodkit.adapters.queue.sqs import SqsQueue

TEMPLATE = Path(__file__).resolve().parents[1] / "infra" / "aws" / "template.yaml"


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub...) as plain data."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if name == "Fn::GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {name: value}


_Loader.add_multi_constructor("!", _tag)


def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_Loader)
    return loaded


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
