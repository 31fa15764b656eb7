"""Kept for tests written against the old location; the builders live in sensor.sample_traffic."""

from sensor.sample_traffic import *  # noqa: F403
