"""Roles and what each may do. Every route names the permission it needs; the table below is the whole policy."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # manages users, keys, devices and the AI-tool policy; can do everything a reviewer can
    REVIEWER = "reviewer"  # triages alerts: status, assignment, comments
    READ_ONLY = "read_only"  # consultants and auditors: read alerts, usage and reports, change nothing


class Permission(StrEnum):
    READ = "read"  # alerts, events, usage, catalog, reports, audit log
    TRIAGE = "triage"  # change an alert's status, assignee, comments
    ADMINISTER = "administer"  # users, API keys, devices, policy


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.REVIEWER: frozenset({Permission.READ, Permission.TRIAGE}),
    Role.READ_ONLY: frozenset({Permission.READ}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
