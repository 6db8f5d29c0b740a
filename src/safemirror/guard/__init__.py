"""Exposure guard: probe data stores from outside, watch for drift, alert within a minute.

Pipeline: ``targets`` (load + validate a targets file) → ``probes`` (one registered class
per store kind; each returns protocol facts, an ``Observation``) → ``assess`` (facts ×
baseline × data held → findings with a severity) → ``report`` / ``watch`` (alerts,
metrics, remediation). Every finding, alert and action is written to the audit log.
"""

from __future__ import annotations
