"""A settlement/fee CSV parser for regional marketplaces, driven by a mapping file instead of code.

Small marketplaces each send a daily settlement CSV of their own design: their column names,
delimiter, encoding, date format, number format (`1,234.56` or `1.234,56`), sign convention
(`-12.50`, `12,50-` as German accounting exports write it, `(12.50)`, or separate debit/credit
columns) and their own labels for what a line is. Onboarding one must not need code, so all of
that is declared in `mappings/<marketplace>.yaml` (a mapping found by name in that folder, or by
path anywhere, e.g. a new marketplace being tried out). The mapping is validated before any row is
read; a wrong one raises MappingError naming the file and the field.

Every file is read into the same canonical row: settlement_id, line_number (physical line, the
header's line counts), order_id, sku, line_type (sale, refund, commission, shipping_fee,
advertising_fee, adjustment, payout), their_line_type (the label as written), quantity, amount
and fee (Decimal, exact; signed from the seller's side: positive = money to the seller), currency,
posted_date / posted_at (aware UTC) and description. A marketplace that reports fees as positive
charges says so (`fee_sign: charged_positive`) and the parser negates them.

A row whose date, number or line type cannot be read is quarantined with a reason that names the
column and the value; the rows around it still parse. A file whose header lacks a mapped column,
or that cannot be decoded, raises ReportFormatError.
"""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from connectors.report_files import ParsedReport, ReportFormatError, RowError, parse_data_rows

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"
LINE_TYPES = ("sale", "refund", "commission", "shipping_fee", "advertising_fee", "adjustment", "payout")
LineType = Literal["sale", "refund", "commission", "shipping_fee", "advertising_fee", "adjustment", "payout"]


class MappingError(ValueError):
    """A mapping file is missing, unreadable or invalid; the message names the file and the field."""


# ---------------------------------------------------------------------------------------------
# The mapping file


class _Strict(BaseModel):
    # A typo in a mapping (`delimeter:`) must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Columns(_Strict):
    """Our canonical field -> the marketplace's column header."""
    settlement_id: str
    line_type: str
    amount: str | None = None  # one signed column, or debit and credit columns
    debit: str | None = None
    credit: str | None = None
    order_id: str | None = None
    sku: str | None = None
    quantity: str | None = None
    fee: str | None = None
    currency: str | None = None
    posted_date: str | None = None
    posted_at: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_amount_source(self):
        if self.amount is None and (self.debit is None or self.credit is None):
            raise ValueError("give amount, or both debit and credit")
        if self.amount is not None and (self.debit is not None or self.credit is not None):
            raise ValueError("give amount or debit/credit, not both")
        if self.posted_date is None and self.posted_at is None:
            raise ValueError("give posted_date or posted_at")
        return self


class NumberFormat(_Strict):
    decimal_separator: Literal[".", ","] = "."
    thousands_separator: Literal[",", ".", " ", "'", ""] = ""
    # leading_minus: -1234.56; trailing_minus: 1234,56-; parentheses: (1234.56). With debit/credit
    # columns both hold positive numbers and the sign comes from the column.
    negative: Literal["leading_minus", "trailing_minus", "parentheses"] = "leading_minus"

    @model_validator(mode="after")
    def _separators_differ(self):
        if self.decimal_separator == self.thousands_separator:
            raise ValueError("decimal_separator and thousands_separator must differ")
        return self


class Mapping(_Strict):
    marketplace: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    display_name: str | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")  # or columns.currency
    encoding: str = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header_row: int = Field(default=1, ge=1)  # 1-based line of the header; lines above it are a preamble
    date_format: str = "%Y-%m-%d"  # strptime pattern of posted_date
    datetime_format: str | None = None  # strptime pattern of posted_at
    time_zone: str = "UTC"  # read a posted_at without an offset in this zone
    numbers: NumberFormat = NumberFormat()
    fee_sign: Literal["signed", "charged_positive"] = "signed"
    columns: Columns
    line_types: dict[str, LineType] = Field(min_length=1)  # their label -> ours
    _column_order: tuple[str, ...] = PrivateAttr(default=())  # canonical fields as the file declares them

    @property
    def file_columns(self) -> dict[str, str]:
        """Canonical field -> column header, in the mapping file's order (the order the files come in)."""
        declared = {f: h for f, h in self.columns.model_dump().items() if h}
        order = [f for f in self._column_order if f in declared] + [f for f in declared if f not in self._column_order]
        return {f: declared[f] for f in order}

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            "".encode(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _currency_and_formats(self):
        if (self.currency is None) == (self.columns.currency is None):
            raise ValueError("give exactly one of currency and columns.currency")
        if self.columns.posted_at is not None and self.datetime_format is None:
            raise ValueError("columns.posted_at needs datetime_format")
        return self

    @property
    def line_type_lookup(self) -> dict[str, str]:
        return {label.strip().casefold(): ours for label, ours in self.line_types.items()}


def _mapping_path(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or "/" in text or text.endswith((".yaml", ".yml", ".json")):
        return Path(name_or_path)
    return MAPPINGS_DIR / f"{text}.yaml"


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A marketplace's mapping, by name (mappings/<name>.yaml) or by path (.yaml, .yml or .json)."""
    path = _mapping_path(name_or_path)
    if not path.is_file():
        known = ", ".join(marketplace_names()) or "none"
        raise MappingError(f"mapping {path}: no such file (mappings shipped: {known})")
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise MappingError(f"mapping {path}: cannot be read: {exc}") from None
    if not isinstance(document, dict):
        raise MappingError(f"mapping {path}: expected a mapping of fields, got {type(document).__name__}")
    try:
        mapping = Mapping.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'mapping'}: {e['msg']}" for e in exc.errors())
        raise MappingError(f"mapping {path}: {problems}") from None
    mapping._column_order = tuple(document["columns"])
    return mapping


def marketplace_names() -> list[str]:
    """The marketplaces with a mapping shipped in mappings/."""
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


# ---------------------------------------------------------------------------------------------
# Cells


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _number_pattern(numbers: NumberFormat) -> re.Pattern:
    dec, group = re.escape(numbers.decimal_separator), re.escape(numbers.thousands_separator)
    grouped = rf"\d{{1,3}}(?:{group}\d{{3}})+" if numbers.thousands_separator else r"(?!)"
    return re.compile(rf"^(?:{grouped}|\d+)(?:{dec}\d+)?$")


def parse_number(value: str | None, column: str, numbers: NumberFormat, *, signed: bool = True) -> Decimal | None:
    """A number in the mapping's format, exactly; None for an empty cell."""
    text = _text(value)
    if text is None:
        return None
    negative = False
    body = text.replace("\u00a0", " ") if numbers.thousands_separator == " " else text
    if signed:
        if numbers.negative == "parentheses" and body.startswith("(") and body.endswith(")"):
            negative, body = True, body[1:-1].strip()
        elif numbers.negative == "trailing_minus" and body.endswith("-"):
            negative, body = True, body[:-1].strip()
        elif body[:1] in "+-":
            # a leading minus is understood whatever the declared convention: it is unambiguous
            negative, body = body[0] == "-", body[1:].strip()
    if not _number_pattern(numbers).match(body):
        example = _example(numbers, signed)
        raise RowError(f"{column}: {text!r} is not a number in this marketplace's format (e.g. {example})")
    plain = body.replace(numbers.thousands_separator, "") if numbers.thousands_separator else body
    try:
        amount = Decimal(plain.replace(numbers.decimal_separator, "."))
    except InvalidOperation:  # pragma: no cover - the pattern guards this
        raise RowError(f"{column}: {text!r} is not a number") from None
    return -amount if negative else amount


def _example(numbers: NumberFormat, signed: bool) -> str:
    body = f"1{numbers.thousands_separator}234{numbers.decimal_separator}56"
    if not signed:
        return body
    return {"leading_minus": f"-{body}", "trailing_minus": f"{body}-", "parentheses": f"({body})"}[numbers.negative]


def parse_date(value: str | None, column: str, pattern: str) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return datetime.strptime(text, pattern).date()
    except ValueError:
        raise RowError(f"{column}: {text!r} is not a date in the format {pattern}") from None


def parse_datetime(value: str | None, column: str, pattern: str, zone: str) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        moment = datetime.strptime(text, pattern)
    except ValueError:
        raise RowError(f"{column}: {text!r} is not a timestamp in the format {pattern}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(timezone.utc)


def _quantity(value: str | None, column: str) -> int | None:
    text = _text(value)
    if text is None:
        return None
    if not re.fullmatch(r"[+-]?\d+", text):
        raise RowError(f"{column}: {text!r} is not a whole quantity")
    return int(text)


# ---------------------------------------------------------------------------------------------
# Rows and files


def _parse_row(cells: dict[str, str], line_number: int, mapping: Mapping, lookup: dict[str, str]) -> dict:
    columns = mapping.columns
    get = cells.get

    def cell(field: str) -> str | None:
        column = getattr(columns, field)
        return get(column) if column else None

    settlement_id = _text(cell("settlement_id"))
    if settlement_id is None:
        raise RowError(f"{columns.settlement_id}: empty settlement id")
    their_type = _text(cell("line_type"))
    if their_type is None:
        raise RowError(f"{columns.line_type}: empty line type")
    line_type = lookup.get(their_type.casefold())
    if line_type is None:
        raise RowError(f"{columns.line_type}: unknown line type {their_type!r} "
                       f"(the {mapping.marketplace} mapping knows {', '.join(sorted(mapping.line_types))})")

    numbers = mapping.numbers
    if columns.amount is not None:
        amount = parse_number(cell("amount"), columns.amount, numbers)
        if amount is None:
            raise RowError(f"{columns.amount}: empty amount")
    else:
        debit = parse_number(cell("debit"), columns.debit, numbers, signed=False)
        credit = parse_number(cell("credit"), columns.credit, numbers, signed=False)
        if debit is None and credit is None:
            raise RowError(f"{columns.debit}/{columns.credit}: both empty")
        amount = (credit or Decimal(0)) - (debit or Decimal(0))
    fee = parse_number(cell("fee"), columns.fee, numbers) if columns.fee else None
    if fee is not None and mapping.fee_sign == "charged_positive":
        fee = -fee

    currency = mapping.currency or _text(cell("currency"))
    if currency is None or not re.fullmatch(r"[A-Z]{3}", currency.upper()):
        raise RowError(f"{columns.currency}: {currency!r} is not an ISO currency code")

    posted_at = (parse_datetime(cell("posted_at"), columns.posted_at, mapping.datetime_format, mapping.time_zone)
                 if columns.posted_at else None)
    posted_date = parse_date(cell("posted_date"), columns.posted_date, mapping.date_format) if columns.posted_date \
        else None
    if posted_date is None and posted_at is not None:
        # the business date is the marketplace's local date, not the UTC one
        posted_date = posted_at.astimezone(ZoneInfo(mapping.time_zone)).date()
    if posted_date is None:
        raise RowError(f"{columns.posted_date or columns.posted_at}: empty posting date")

    return {
        "marketplace": mapping.marketplace, "settlement_id": settlement_id, "line_number": line_number,
        "order_id": _text(cell("order_id")), "sku": _text(cell("sku")), "line_type": line_type,
        "their_line_type": their_type, "quantity": _quantity(cell("quantity"), columns.quantity or "quantity"),
        "amount": amount, "fee": fee, "currency": currency.upper(), "posted_date": posted_date,
        "posted_at": posted_at, "description": _text(cell("description")),
    }


def parse_settlement_file(source: str | Path | bytes, mapping: Mapping | str | Path) -> ParsedReport:
    """Parse one settlement CSV (path or bytes) with a marketplace's mapping (object, name or path)."""
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    data = source if isinstance(source, bytes | bytearray) else Path(source).read_bytes()
    try:
        text = bytes(data).decode(mapping.encoding)
    except UnicodeDecodeError as exc:
        raise ReportFormatError(f"not {mapping.encoding} as the {mapping.marketplace} mapping says: {exc}") from None
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    header: list[str] | None = None
    for cells in reader:
        if reader.line_num >= mapping.header_row:
            header = [name.strip() for name in cells]
            break
    if header is None:
        raise ReportFormatError(f"no header on line {mapping.header_row}: the file is shorter "
                                f"than the {mapping.marketplace} mapping expects")
    wanted = list(mapping.file_columns.values())
    missing = [c for c in wanted if c not in header]
    if missing:
        raise ReportFormatError(f"not a {mapping.marketplace} settlement file: header lacks {', '.join(missing)}")

    lookup = mapping.line_type_lookup
    return parse_data_rows(reader, header, lambda raw, line_number: _parse_row(raw, line_number, mapping, lookup))
