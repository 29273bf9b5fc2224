"""Celery tasks of the vault: thin wrappers that call a service."""

from celery import shared_task

from evidence.ledger import checkpoint_create, ledger_size
from evidence.timestamps import acquisition_timestamp, checkpoint_timestamp, timestamps_retry_missing


@shared_task(acks_late=True)
def ledger_checkpoint_task() -> int | None:
    """Sign the ledger's tree head (scheduled by Celery beat), then timestamp what still lacks a token."""
    if ledger_size() == 0:
        return None  # a fresh installation has nothing to sign yet; the next beat tries again
    checkpoint = checkpoint_create()
    timestamps_retry_missing()
    return checkpoint.pk


@shared_task(acks_late=True)
def checkpoint_timestamp_task(checkpoint_id: int) -> int | None:
    """Ask the timestamp authorities for a token of one checkpoint; returns the token row's id."""
    token = checkpoint_timestamp(checkpoint_id=checkpoint_id)
    return token.pk if token is not None else None


@shared_task(acks_late=True)
def acquisition_timestamp_task(acquisition_id: int) -> int | None:
    """Ask the timestamp authorities for a token of one acquisition's manifest."""
    token = acquisition_timestamp(acquisition_id=acquisition_id)
    return token.pk if token is not None else None
