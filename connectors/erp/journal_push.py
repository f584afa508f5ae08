"""Push posting batches to the ERP's REST API, once each, whatever is retried or replayed.

    client = ErpClient(base_url, api_token)
    outcome = push_batch(client, batch)     # batch: the dict of connectors/erp/journal_files.py
    outcome.status                          # "posted" | "duplicate" | "refused"
    outcome.document_number                 # the ERP's journal number (posted and duplicate)

The body is the ERP's JournalBatch (connectors/erp/models.py) and the Idempotency-Key the batch id,
sent by ErpClient.post_journal with the client's session, Bearer auth and retries (connection errors,
429 and 5xx are retried with backoff, which the key makes safe). What comes back:
- 201: `posted`, with the journal number the ERP gave it;
- 200: `duplicate`: the ERP already holds a batch with this key and the same content and answers with
  what it answered the first time (the same journal number); nothing was posted twice;
- 400, 409, 413, 422 (the batch is malformed, the key was used for other content, an account is
  unknown, it does not balance): `refused`, with the ERP's error code and message, for a person;
- a batch that cannot be a valid JournalBatch (unbalanced, a line with no amount) is `refused` without
  being sent;
- anything else raises ErpAPIError: 401/403 (the token, not the batch), 404/405 (the URL), 5xx or 429
  still failing after the retries, no answer at all. The token is never in a message.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from connectors.erp.client import ErpAPIError, ErpClient
from connectors.erp.journal_files import Batch, journal_memo, normalised_batch
from connectors.erp.models import JournalBatch

PushStatus = Literal["posted", "duplicate", "refused"]
REFUSAL_STATUSES = frozenset({400, 409, 413, 422})  # answers about the batch itself


@dataclass(frozen=True)
class PushOutcome:
    batch_id: str
    status: PushStatus
    document_number: str | None  # the ERP's journal number; None when refused
    message: str


def journal_batch(batch: Batch) -> JournalBatch:
    """The ERP request body for one posting batch (raises ValueError when it is not a balanced batch).

    Batch level: batchId = batch_id (also the Idempotency-Key), legalEntityId, postingDate, currency,
    description "<provider> <journal type> payout <payout id> (<batch id>)". Line level: accountCode,
    debit and credit as exact decimals, memo = the line description, sourceRef "<batch id>#<line number>"
    (the line in marts.journal_lines, whose sources are in marts.journal_line_sources).
    """
    plain = normalised_batch(batch)
    return JournalBatch.model_validate({
        "batchId": plain["batch_id"], "legalEntityId": plain["legal_entity_id"],
        "postingDate": plain["posting_date"], "currency": plain["currency"], "description": journal_memo(plain),
        "lines": [{"accountCode": line["account_code"], "debit": line["debit_amount"],
                   "credit": line["credit_amount"], "memo": line.get("description"),
                   "sourceRef": f"{plain['batch_id']}#{line['line_number']}"} for line in plain["lines"]],
    })


def push_batch(client: ErpClient, batch: Batch) -> PushOutcome:
    """Post one batch with its batch id as Idempotency-Key; see the module docstring for the outcomes."""
    batch_id = str(batch.get("batch_id") or "")
    try:
        body = journal_batch(batch)
    except (ValueError, TypeError) as error:  # pydantic's ValidationError is a ValueError
        reason = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
        return PushOutcome(batch_id, "refused", None, f"not sent: {reason}")
    try:
        result = client.post_journal(body)
    except ErpAPIError as error:
        if error.status in REFUSAL_STATUSES:
            return PushOutcome(batch_id, "refused", None, _refusal(error))
        raise
    number = _journal_number(result.body)
    if result.created:
        return PushOutcome(batch_id, "posted", number, f"posted as {number}")
    return PushOutcome(batch_id, "duplicate", number,
                       f"already posted as {number}; the ERP answered the Idempotency-Key with its stored answer")


def push_batches(client: ErpClient, batches: Iterable[Batch]) -> list[PushOutcome]:
    """push_batch for each batch in turn: a refusal is an outcome and the next batch goes on; an outage
    or a bad token raises (batches pushed before it are posted, and pushing them again is a duplicate)."""
    return [push_batch(client, batch) for batch in batches]


def _journal_number(body: Any) -> str | None:
    if isinstance(body, Mapping):
        number = body.get("journalNumber") or body.get("documentNumber") or body.get("number")
        return str(number) if number is not None else None
    return None


def _refusal(error: ErpAPIError) -> str:
    """The ERP's own words: `<code>: <message> (HTTP <status>)`, from the error body the client kept."""
    message = None
    try:
        detail = json.loads(error.body).get("error") or {}
        message = detail.get("message")
    except (ValueError, AttributeError):
        pass
    code = error.code or "Refused"
    return f"{code}: {message or error.body or error} (HTTP {error.status})"
