"""Stage 1, intake: every raw record, from any channel, lands in the inbox first.

CSV files (`files`), pulled pages (`pull`, the cursor advanced in the page's transaction)
and webhooks (`webhooks`, acknowledged only after `group_commit` has committed them).
Intake never maps or resolves: it stores what arrived, idempotently, and moves on.
"""
