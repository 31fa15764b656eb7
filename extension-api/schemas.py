"""Request and response bodies of the extension API, with the examples the OpenAPI page shows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from events.labels import DataLabel
from events.models import PolicyAction

DeviceName = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f]+$")]
Version = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z.+-]+$")]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnrolRequest(Model):
    token: Annotated[str, StringConstraints(min_length=8, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")] = Field(
        examples=["sse_3q2d-Jd8kQ0pZ1xW6yR5tV4uB9nM7cL2a"]
    )
    device_name: DeviceName = Field(examples=["laptop-0142"])
    extension_version: Version = Field(examples=["0.1.0"])


class EnrolResponse(Model):
    device_id: str = Field(examples=["dev-laptop-0142-9f3a1c2e"])
    credential: str = Field(description="Shown once; send as 'Authorization: Bearer <credential>'.")


class PolicyTool(Model):
    id: str
    name: str
    hosts: list[str]
    status: str = Field(examples=["unsanctioned"])


class Redirect(Model):
    tool_id: str
    url: str


class ExtensionPolicy(Model):
    version: int = Field(description="The organisation's policy version (changes when a tool's status changes).")
    default_status: str
    tools: list[PolicyTool]
    actions: dict[str, dict[DataLabel, PolicyAction]] = Field(
        description="Tool status → data label → what the extension does before the data leaves the page.",
        examples=[{"unsanctioned": {"pii": "block", "legal": "warn"}, "sanctioned": {"pii": "monitor"}}],
    )
    redirect: Redirect | None
    send_text: bool = Field(description="False: send findings (labels, counts, keyed hash), never the text.")
    hash_key: str = Field(
        description="Base64 key for the HMAC-SHA256 of texts, so device hashes match the collector's."
    )
    refresh_seconds: int = 900


class EnrolmentTokenRequest(Model):
    uses: int = Field(default=1, ge=1, le=10_000, description="How many devices may enrol with it.")
    ttl_hours: int = Field(default=72, ge=1, le=24 * 90)
    description: str | None = Field(default=None, max_length=200, pattern=r"^[^\x00]*$")


class EnrolmentTokenResponse(Model):
    token: str = Field(description="Shown once: hand it to the extensions (managed storage).")
    expires_at: datetime
    uses: int


class DeviceOut(Model):
    device_id: str
    description: str | None
    enrolled_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
