"""The AWS footprint's settings: the deployed stack's resources (``VODKIT_BACKEND=aws``).

The template sets the Lambda functions' share; ``vodkit aws outputs`` prints the
CLI's. Credentials, region and ``AWS_ENDPOINT_URL`` come from boto3's own
environment and files.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ...config import Settings
from ...domain.chunks import DEFAULT_CHUNK_SECONDS
from ...domain.errors import ConfigError
from ...domain.plan import MEDIACONVERT
from ...services.text_conversion import MAX_SOURCE_BYTES


class AwsSettings(Settings):
    ENCODER: ClassVar[str] = MEDIACONVERT  # QVBR at the presets' quality level
    environment: str = Field("dev", description="the stack's EnvironmentSuffix; metric dimension")
    stack_name: str = Field("", description="the CloudFormation stack (jobs are tagged with it)")
    catalog_table: str = Field("", description="DynamoDB table of the catalog")
    presets_parameter: str = Field("", description="SSM parameter holding the presets")
    mediaconvert_role: str = Field("", description="role ARN MediaConvert assumes")
    mediaconvert_endpoint: str = Field("", description="account endpoint; empty: regional")
    metrics_namespace: str = Field("MediaPipeline", description="CloudWatch namespace")
    processing_queue_url: str = Field("", description="upload events queue (CLI)")
    processing_dlq_url: str = Field("", description="its dead-letter queue (CLI)")
    job_events_queue_url: str = Field("", description="job-state events queue (CLI)")
    job_events_dlq_url: str = Field("", description="its dead-letter queue (CLI)")
    chunk_seconds: int = Field(
        DEFAULT_CHUNK_SECONDS,
        ge=1,
        description="a source longer than twice this asks MediaConvert for accelerated "
        "transcoding (PREFERRED), as the cluster would split it into chunks of this length",
    )
    text_source_max_bytes: int = Field(
        MAX_SOURCE_BYTES,
        ge=0,
        description="the largest upload the ingest reads whole to make its ASS/SSA tracks "
        "WebVTT (MediaConvert reads no ASS); larger, they are skipped with the reason",
    )

    def require(self, *names: str) -> None:
        missing = [n for n in names if not getattr(self, n)]
        if missing:
            raise ConfigError(
                "the aws backend needs "
                + ", ".join(f"VODKIT_{n.upper()}" for n in missing)
                + " (the stack's outputs: `vodkit aws outputs --stack NAME`)"
            )
