"""The policy an enrolled extension fetches: tool statuses from the catalog and the organisation's policy, the
action table, the redirect target, whether text may leave the device, and the key for hashing texts."""

from __future__ import annotations

import base64

from sqlalchemy.orm import Session

from collector.policy import current_policy
from collector.runtime import Runtime
from extension_api.schemas import ExtensionPolicy, PolicyTool, Redirect
from rules.extension_schema import ACTIONS_FILE, load_action_table

REFRESH_SECONDS = 900


def build_policy(session: Session, runtime: Runtime) -> ExtensionPolicy:
    policy = current_policy(session)
    settings = runtime.settings
    table = load_action_table(settings.extension_actions_file or ACTIONS_FILE)
    tools = []
    for entry in runtime.catalog.tools.values():
        tool = entry.tool
        status, _ = policy.resolve(tool.id, tool.category.value)
        tools.append(PolicyTool(id=tool.id, name=tool.name, hosts=[*tool.exact, *tool.suffixes], status=status.value))
    redirect = None
    target = runtime.catalog.tools.get(settings.extension_redirect_tool or "")
    if target is not None:
        host = (target.tool.exact or target.tool.suffixes)[0]
        redirect = Redirect(tool_id=target.tool.id, url=f"https://{host}/")
    return ExtensionPolicy(
        version=policy.version,
        default_status=policy.default.value,
        tools=sorted(tools, key=lambda t: t.id),
        actions={status: dict(actions) for status, actions in table.actions.items()},
        redirect=redirect,
        send_text=settings.extension_send_text,
        hash_key=base64.b64encode(runtime.rows.hasher.key).decode(),
        refresh_seconds=REFRESH_SECONDS,
    )
