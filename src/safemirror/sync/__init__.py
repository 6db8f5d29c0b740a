"""The sync: source → plan → transform → mirror → verify, recorded in the audit log."""
