"""Pydantic models of the ERP REST API's payloads (see connectors/erp/client.py for the API).

The ERP speaks OData-flavoured JSON: camelCase names, collections under `value`, and Edm.Decimal
amounts as JSON strings (the client asks for `IEEE754Compatible=true`, so "7.80" keeps its exact
text). A number that does arrive as a JSON float is read through its text, never as a binary float.
Fields omnirecon does not read are ignored: ERP upgrades add columns.

`JournalBatch` is what omnirecon posts: one balanced batch of journal lines per legal entity,
posting date and currency, identified by a deterministic batch id (the Idempotency-Key).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

AccountType = Literal["asset", "liability", "equity", "revenue", "expense"]
ZERO = Decimal("0")


class ErpModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @field_validator("*", mode="before")
    @classmethod
    def _floats_as_exact_decimals(cls, value):
        return str(value) if isinstance(value, float) else value


class Item(ErpModel):
    sku: str = Field(min_length=1)
    description: str | None = None
    unit_cost: Decimal = Field(alias="unitCost", ge=0)
    cost_currency: str = Field(alias="costCurrency", min_length=3, max_length=3)
    tax_code: str | None = Field(None, alias="taxCode")
    barcode: str | None = None
    active: bool = True
    modified_at: datetime | None = Field(None, alias="lastModifiedDateTime")


class LegalEntity(ErpModel):
    legal_entity_id: str = Field(alias="id", min_length=1)
    name: str
    functional_currency: str = Field(alias="functionalCurrency", min_length=3, max_length=3)
    time_zone: str = Field(alias="timeZone")
    country: str


class Address(ErpModel):
    city: str | None = None
    region: str | None = None
    country: str | None = None


class Location(ErpModel):
    code: str = Field(min_length=1)
    name: str
    kind: Literal["store", "warehouse"]
    time_zone: str = Field(alias="timeZone")
    legal_entity_id: str = Field(alias="legalEntityId")
    address: Address = Address()


class GlAccount(ErpModel):
    account_code: str = Field(alias="accountCode", min_length=1)
    name: str
    account_type: AccountType = Field(alias="accountType")
    legal_entity_id: str | None = Field(None, alias="legalEntityId")  # None: the account is global
    active: bool = True


class JournalLine(ErpModel):
    account_code: str = Field(alias="accountCode", min_length=1)
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    memo: str | None = None
    source_ref: str | None = Field(None, alias="sourceRef")  # lineage: what the line summarises

    @model_validator(mode="after")
    def _one_side(self):
        if self.debit < 0 or self.credit < 0 or (self.debit > 0) == (self.credit > 0):
            raise ValueError("a journal line has either a positive debit or a positive credit")
        return self


class JournalBatch(ErpModel):
    batch_id: str = Field(alias="batchId", min_length=1)
    legal_entity_id: str = Field(alias="legalEntityId")
    posting_date: date = Field(alias="postingDate")
    currency: str = Field(min_length=3, max_length=3)
    description: str | None = None
    lines: list[JournalLine] = Field(min_length=1)

    @model_validator(mode="after")
    def _balanced(self):
        debits = sum((line.debit for line in self.lines), ZERO)
        credits = sum((line.credit for line in self.lines), ZERO)
        if debits != credits:
            raise ValueError(f"journal batch {self.batch_id} does not balance: debits {debits} != credits {credits}")
        return self

    def to_json(self) -> dict:
        """The request body: camelCase, amounts as exact decimal strings."""
        return {
            "batchId": self.batch_id, "legalEntityId": self.legal_entity_id,
            "postingDate": self.posting_date.isoformat(), "currency": self.currency,
            "description": self.description,
            "lines": [{"accountCode": line.account_code, "debit": format(line.debit, "f"),
                       "credit": format(line.credit, "f"), "memo": line.memo, "sourceRef": line.source_ref}
                      for line in self.lines],
        }
