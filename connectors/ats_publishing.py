"""What every available-to-sell (ATS) publisher shares: the change to push, the channel's answer, the protocol.

    publisher.push([AtsChange("amazon", "TEE-BLK-M", None, 12), ...]) -> [PushResult, ...]  # same order

One result per change, in the order given. A change the channel refuses on its own merits (an
unknown SKU, a 4xx about that item) is a `failed` result carrying the channel's error text, and the
remaining changes still go out. A problem that is not about one item (a rejected credential, an
outage that outlasts the retries, an answer that makes no sense) raises the client's VendorAPIError
instead: the changes already sent have landed, and since every push sets an absolute quantity the
next cycle can simply send them again.

Grain: a per-location channel (Shopify) needs `location_id`, a network channel (Amazon, a
marketplace) must have None. A change of the wrong grain is the caller's bug and raises ValueError
before anything is sent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

PUSHED = "pushed"
FAILED = "failed"
PushStatus = Literal["pushed", "failed"]


@dataclass(frozen=True)
class AtsChange:
    """One quantity to publish: what `channel_id` may sell of `sku` (at `location_id`, or across the network)."""

    channel_id: str
    sku: str
    location_id: str | None
    quantity: int

    def __post_init__(self):
        if not self.sku:
            raise ValueError("an ATS change needs a SKU")
        # bool is an int to Python, but True units is a bug upstream, not a quantity
        if not isinstance(self.quantity, int) or isinstance(self.quantity, bool):
            raise ValueError(f"ATS for {self.sku} must be a whole number, got {self.quantity!r}")
        if self.quantity < 0:
            raise ValueError(f"ATS for {self.sku} is {self.quantity}: ATS is never negative")


@dataclass(frozen=True)
class PushResult:
    """The channel's answer to one change: `reference` names what the channel recorded, `error` why it refused."""

    change: AtsChange
    status: PushStatus
    reference: str | None = None
    error: str | None = None

    @classmethod
    def pushed(cls, change: AtsChange, reference: str | None) -> PushResult:
        return cls(change, PUSHED, reference, None)

    @classmethod
    def failed(cls, change: AtsChange, error: str) -> PushResult:
        return cls(change, FAILED, None, error)


# Statuses about the account, the credential or the request rate, never about one item: they stop the push.
ACCOUNT_LEVEL_STATUSES = frozenset({401, 402, 403, 407, 423, 429})


def refuses_item(status: int) -> bool:
    """A 4xx about this one item (unknown SKU, invalid value): a failed result, and the push goes on."""
    return 400 <= status < 500 and status not in ACCOUNT_LEVEL_STATUSES


@runtime_checkable
class AtsPublisher(Protocol):
    def push(self, changes: list[AtsChange]) -> list[PushResult]:
        """Publish each change: one result per change, in order. A failure of the whole push raises VendorAPIError."""
        ...


def require_network_grain(changes: list[AtsChange], channel: str) -> None:
    """Network-grain channels publish one quantity per SKU: a location in a change is an upstream mix-up."""
    located = [change for change in changes if change.location_id is not None]
    if located:
        first = located[0]
        raise ValueError(f"{channel} takes network-grain ATS (location_id None), but {len(located)} change(s) name "
                         f"a location, e.g. {first.sku} at {first.location_id}")


def require_location_grain(changes: list[AtsChange], channel: str) -> None:
    unlocated = [change for change in changes if change.location_id is None]
    if unlocated:
        raise ValueError(f"{channel} takes ATS per location, but {len(unlocated)} change(s) name no location, "
                         f"e.g. {unlocated[0].sku}")
