"""Alerts from the detection rules (rules/detections/*.yaml), persisted as `Alert` rows with their evidence.

Rules that decide on one event (`event` with threshold 1, `first_use`) run as a batch is stored (`on_ingest`);
rules that count within a window (`event` with a threshold, `volume`) run on a schedule over whole windows
(`windows.evaluate_due_windows`). Both record firings through `recording.record_firings`, which folds repeats into
the open alert of the same rule and group. See docs/alerts.md.
"""
