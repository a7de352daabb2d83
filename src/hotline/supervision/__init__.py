"""Supervision: the KPIs a 12345 centre is judged by, over calls and work orders."""
