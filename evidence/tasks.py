"""Celery tasks of the vault: thin wrappers that call a service."""

from celery import shared_task

from evidence.ledger import checkpoint_create, ledger_size


@shared_task(acks_late=True)
def ledger_checkpoint_task() -> int | None:
    """Sign the ledger's tree head (scheduled by Celery beat); returns the checkpoint id."""
    if ledger_size() == 0:
        return None  # a fresh installation has nothing to sign yet; the next beat tries again
    return checkpoint_create().pk
