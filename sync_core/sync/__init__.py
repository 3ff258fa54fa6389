"""PURE sync decisions: the per-target plan and the mass-deletion guard. No I/O here."""
