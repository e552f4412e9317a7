"""guestsync: a sync hub between restaurant booking/POS systems and the CRM.

Four durable stages (see DESIGN.md): inbox -> process -> outbox -> deliver.
"""

__version__ = "0.1.0"
