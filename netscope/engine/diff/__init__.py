"""``netscope diff A B`` and the baseline gates: what changed between two reports.

Computed from two report dicts (the JSON files are the stable interface, so a diff works on
reports written by any netscope of schema 1), never from live snapshots."""
