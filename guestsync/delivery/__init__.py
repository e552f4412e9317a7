"""Stage 4, delivery: outbox rows to each CRM in batches of its size, at its rate, with
retry; per-record results applied per record; permanent failures to dead letters.

`batches` runs a target's queue; `crm_ops` carries out merges and deletes in the CRM;
`plan` is the dry run; `rate_budget` shares one CRM account's rate between processes.
"""
