"""Hooks other apps register at start-up to hear of new messages, without sources importing them.

``message_listeners`` are called inside the transaction that commits a batch of messages, after its case
event, with the ids of the messages the batch recorded (search indexes their text; sources does not import
search). A listener that raises rolls the batch back, so listeners must only fail for reasons that should
stop the run.
"""

from collections.abc import Callable, Sequence

MessageListener = Callable[[Sequence[int]], None]
message_listeners: list[MessageListener] = []


def messages_recorded(message_ids: Sequence[int]) -> None:
    """Tell every listener that these messages were recorded (called in the recording transaction)."""
    if not message_ids:
        return
    for listener in message_listeners:
        listener(message_ids)
