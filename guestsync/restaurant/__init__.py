"""The restaurant domain: what a guest's bookings, bills and answers mean for the CRM.

Aggregates (visits, covers, spend, no-shows), segments, consent in force per channel,
the CRM properties they fill, and the privacy rules (forgotten guests, masked logs).
`hooks` is where the process stage calls in. Rules over the store; no CRM calls.
"""
