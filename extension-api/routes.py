"""The extension API: enrolment, policy and telemetry for browser extensions, and the admin side of enrolment.

Served by the collector process (its routers are mounted by `collector.app.create_app`), so telemetry goes
straight into the collector's ingest and classification: there is one owner of the database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response

from collector.deps import AdminDep, ReadSessionDep, RuntimeDep, require_scope
from collector.enrolment import EnrolmentRefused, create_enrolment_token, enrol_device, list_devices, revoke_device
from collector.errors import ApiError, ErrorResponse
from collector.keys import ApiKeyError, Principal, Scope
from collector.routes.heartbeats import HeartbeatReceipt, deliver_heartbeat
from collector.routes.ingest import deliver
from collector.schemas import IngestResponse
from events.heartbeat import Heartbeat
from events.models import EventBatch, PasteEvent, PromptEvent
from extension_api.policy_document import build_policy
from extension_api.rate_limit import RateLimiter
from extension_api.schemas import (
    DeviceOut,
    EnrolmentTokenRequest,
    EnrolmentTokenResponse,
    EnrolRequest,
    EnrolResponse,
    ExtensionPolicy,
)

router = APIRouter(prefix="/ext/v1", tags=["extension"])
admin_router = APIRouter(prefix="/api/v1", tags=["devices"])
DeviceDep = Annotated[Principal, Depends(require_scope(Scope.DEVICE))]


def _errors(**described: str) -> dict[int | str, dict[str, object]]:
    return {int(code[1:]): {"model": ErrorResponse, "description": text} for code, text in described.items()}


@router.post(
    "/enrol",
    status_code=201,
    response_model=EnrolResponse,
    responses=_errors(
        _400="The body is not valid JSON.", _401="Unknown, used or expired enrolment token.", _422="Malformed request."
    ),
    summary="Exchange an enrolment token for this device's credential",
)
def enrol(body: EnrolRequest, runtime: RuntimeDep) -> EnrolResponse:
    try:
        with runtime.sessions.begin() as session:
            enrolled = enrol_device(
                session,
                body.token,
                device_name=body.device_name,
                extension_version=body.extension_version,
                now=datetime.now(UTC),
            )
    except EnrolmentRefused as error:
        raise ApiError(401, "enrolment_refused", str(error)) from error
    return EnrolResponse(device_id=enrolled.device_id, credential=enrolled.credential.token)


@router.get(
    "/policy",
    response_model=ExtensionPolicy,
    responses=_errors(_401="No device credential, or an unknown or revoked one.", _403="Not a device credential."),
    summary="The organisation's policy for this device: tool statuses, actions per data label, privacy settings",
)
def policy(_: DeviceDep, runtime: RuntimeDep, session: ReadSessionDep) -> ExtensionPolicy:
    return build_policy(session, runtime)


def _limiter(request: Request, name: str = "extension_limiter") -> RateLimiter:
    """The app's per-device token buckets of one kind: telemetry and heartbeats have their own, at the same rate."""
    limiter: RateLimiter | None = getattr(request.app.state, name, None)
    if limiter is None:
        runtime = request.app.state.runtime
        limiter = RateLimiter(runtime.settings.extension_batches_per_minute)
        setattr(request.app.state, name, limiter)
    return limiter


def _rate_limited(wait: float, what: str) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        f"too many {what} from this device; retry in {wait:.0f} s",
        headers={"Retry-After": str(max(int(wait + 0.999), 1))},
    )


@router.post(
    "/telemetry",
    status_code=201,
    response_model=IngestResponse,
    responses={
        200: {"model": IngestResponse, "description": "This batch id was stored before."},
        **_errors(
            _400="The body is not valid JSON.",
            _401="No device credential, or an unknown or revoked one.",
            _403="Events of another device, or network events.",
            _413="The body is larger than the collector accepts.",
            _422="The batch does not match the event contract, or carries text the policy keeps on the device.",
            _429="Too many batches from this device; retry after the Retry-After seconds.",
        ),
    },
    summary="Deliver a batch of this device's browser events (visits, prompts, pastes, uploads)",
)
async def telemetry(
    batch: EventBatch, device: DeviceDep, runtime: RuntimeDep, request: Request, response: Response
) -> IngestResponse:
    wait = _limiter(request).acquire(device.key_id)
    if wait > 0:
        raise _rate_limited(wait, "batches")
    if not runtime.settings.extension_send_text:
        for index, event in enumerate(batch.events):
            if isinstance(event, PromptEvent | PasteEvent) and event.text is not None:
                raise ApiError(
                    422,
                    "text_not_allowed",
                    f"events[{index}].text: this organisation keeps prompt text on the device; send findings",
                )
    return await deliver(batch, device, runtime, response)


_HEARTBEAT_EXAMPLE = {
    "producer_id": "dev-laptop-0142-9f3a1c2e",
    "kind": "extension",
    "version": "0.1.0",
    "sent_at": "2025-06-02T09:15:00Z",
    "spool_batches": 2,
    "spool_bytes": 48213,
    "oldest_spooled_at": "2025-06-02T08:57:41Z",
    "dropped_for_space": 0,
    "rejected": 0,
    "events": 181,
}


@router.post(
    "/heartbeat",
    status_code=200,
    response_model=HeartbeatReceipt,
    responses=_errors(
        _400="The body is not valid JSON.",
        _401="No device credential, or an unknown or revoked one.",
        _403="Not a device credential, or a heartbeat for another device or of another kind than `extension`.",
        _413="The body is larger than the collector accepts.",
        _422="The heartbeat does not match the contract (events/heartbeat.py).",
        _429="Too many heartbeats from this device; retry after the Retry-After seconds.",
    ),
    summary="Report this device's health: queue backlog and counters (the newest heartbeat per device is kept)",
)
async def heartbeat(
    body: Annotated[
        Heartbeat,
        Body(
            openapi_examples={
                "backlog": {
                    "summary": "Two batches waiting since the collector was last reachable",
                    "value": _HEARTBEAT_EXAMPLE,
                },
                "empty": {
                    "summary": "Nothing waiting",
                    "value": {**_HEARTBEAT_EXAMPLE, "spool_batches": 0, "spool_bytes": 0, "oldest_spooled_at": None},
                },
            }
        ),
    ],
    device: DeviceDep,
    runtime: RuntimeDep,
    request: Request,
) -> HeartbeatReceipt:
    """The same heartbeat as `POST /api/v1/heartbeats`, for the extension that only knows `/ext/v1`: a device
    credential, for its own device id, with `kind: extension`."""
    wait = _limiter(request, "extension_heartbeat_limiter").acquire(device.key_id)
    if wait > 0:
        raise _rate_limited(wait, "heartbeats")
    return await deliver_heartbeat(body, device, runtime)


@admin_router.post(
    "/enrolment-tokens",
    status_code=201,
    response_model=EnrolmentTokenResponse,
    responses=_errors(
        _400="The body is not valid JSON.",
        _401="No API key, or an unknown or revoked one.",
        _403="Not an admin key.",
        _422="Malformed.",
    ),
    summary="Create an enrolment token for browser extensions (shown once)",
)
def create_token(body: EnrolmentTokenRequest, _: AdminDep, runtime: RuntimeDep) -> EnrolmentTokenResponse:
    with runtime.sessions.begin() as session:
        issued = create_enrolment_token(
            session,
            uses=body.uses,
            ttl=timedelta(hours=body.ttl_hours),
            now=datetime.now(UTC),
            description=body.description,
        )
    return EnrolmentTokenResponse(token=issued.token, expires_at=issued.expires_at, uses=issued.uses)


@admin_router.get(
    "/devices",
    response_model=list[DeviceOut],
    responses=_errors(_401="No API key, or an unknown or revoked one.", _403="Not an admin key."),
    summary="Enrolled browser extensions, with when they were last seen",
)
def devices(_: AdminDep, session: ReadSessionDep, include_revoked: bool = False) -> list[DeviceOut]:
    return [
        DeviceOut(
            device_id=key.sensor_id or "",
            description=key.description,
            enrolled_at=key.created_at,
            last_seen_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )
        for key in list_devices(session, include_revoked=include_revoked)
    ]


@admin_router.delete(
    "/devices/{device_id}",
    status_code=204,
    responses=_errors(
        _401="No API key, or an unknown or revoked one.", _403="Not an admin key.", _404="No such device."
    ),
    summary="Revoke a device: its credential stops working at once",
)
def revoke(device_id: str, _: AdminDep, runtime: RuntimeDep) -> Response:
    try:
        with runtime.sessions.begin() as session:
            revoke_device(session, device_id)
    except ApiKeyError as error:
        raise ApiError(404, "no_such_device", str(error)) from error
    return Response(status_code=204)
