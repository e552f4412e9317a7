"""Stage 2 and 3, processing: pending inbox rows become guests, bookings, orders and
feedback, and each changed guest's CRM payload becomes an outbox row.

`batch` maps, resolves and settles a window of rows in one transaction; `mapping_pool`
maps the next window in another process meanwhile; `resolve` links a record to its guest;
`ordering` and `removals` keep late and deleted records in their place; `outbox` projects
each target's payload and queues it when its hash changed.
"""
