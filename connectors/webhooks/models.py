"""Pydantic models of what the webhook vendors deliver, and of the event as the store keeps it.

- Shopify sends the resource itself as the body (an order for orders/create and orders/updated,
  a refund for refunds/create), in the shape of the REST Admin API of the subscription's version;
  the topic and ids travel in X-Shopify-* headers. orders/delete carries only {"id": ...}.
- Stripe sends an `event` object: {id: "evt_...", type, created, data: {object: <the resource>},
  livemode, ...}. data.object is validated with the Stripe connector's model when it is a kind we
  read (charge, refund, payout, dispute); other kinds only need an id.
- Adyen sends a batch: {"live": "false", "notificationItems": [{"NotificationRequestItem": {...}}]},
  with booleans as the strings "true"/"false" and amounts in minor units.
Unknown fields are ignored everywhere: vendors add fields without notice, and the stored body
keeps everything anyway.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

from connectors.shopify import models as shopify_models
from connectors.stripe import models as stripe_models


class WebhookModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ---- Shopify --------------------------------------------------------------------------------

class ShopifyResource(WebhookModel):
    """The least every Shopify webhook body has: the id of the resource it is about."""
    id: int


def shopify_body_model(topic: str) -> type[BaseModel]:
    if topic == "orders/delete":
        return ShopifyResource
    if topic.startswith("orders/"):
        return shopify_models.Order
    if topic.startswith("refunds/"):
        return shopify_models.Refund
    return ShopifyResource


# ---- Stripe ---------------------------------------------------------------------------------

STRIPE_OBJECT_MODELS: dict[str, type[BaseModel]] = {
    "charge": stripe_models.Charge, "refund": stripe_models.Refund,
    "payout": stripe_models.Payout, "dispute": stripe_models.Dispute,
}


class StripeEventData(WebhookModel):
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _known_objects_validate(self):
        if not isinstance(self.object.get("id"), str):
            raise ValueError("data.object has no string id")
        model = STRIPE_OBJECT_MODELS.get(self.object.get("object"))
        if model is not None:
            model.model_validate(self.object)
        return self


class StripeEvent(WebhookModel):
    id: Annotated[str, Field(pattern=r"^evt_")]
    object: Literal["event"] = "event"
    type: str  # open: Stripe adds event types
    created: stripe_models.Timestamp
    livemode: bool = False
    account: str | None = None  # set on Connect events
    api_version: str | None = None
    data: StripeEventData

    @property
    def resource_id(self) -> str:
        return self.data.object["id"]


# ---- Adyen ----------------------------------------------------------------------------------

StringBool = Literal["true", "false"]


class AdyenAmount(WebhookModel):
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    value: Annotated[int, Field(strict=True)]  # minor units


class AdyenNotificationItem(WebhookModel):
    pspReference: str
    originalReference: str | None = None
    merchantAccountCode: str
    merchantReference: str | None = None
    eventCode: str  # open: Adyen adds event codes
    eventDate: datetime
    success: StringBool
    amount: AdyenAmount
    paymentMethod: str | None = None
    reason: str | None = None
    operations: list[str] = []
    additionalData: dict[str, Any] = {}

    @property
    def event_id(self) -> str:
        # Adyen's own advice: the same pspReference and eventCode is the same event; success is
        # part of it because a failed and a later successful outcome are two events.
        return f"{self.eventCode}:{self.pspReference}:{self.success}"


class AdyenNotificationEnvelope(WebhookModel):
    NotificationRequestItem: AdyenNotificationItem


class AdyenNotification(WebhookModel):
    live: StringBool
    notificationItems: list[AdyenNotificationEnvelope] = Field(min_length=1)


# ---- the stored event -------------------------------------------------------------------------

class StoredEvent(WebhookModel):
    """One event file's record (see event_store.py); validating it parses and checks the body too."""
    vendor: Literal["shopify", "stripe", "adyen"]
    event_id: Annotated[str, Field(min_length=1)]
    topic: Annotated[str, Field(min_length=1)]
    received_at: datetime
    headers: dict[str, str] = {}
    body: str
    item_index: int | None = None
    _parsed: BaseModel = PrivateAttr()

    @model_validator(mode="after")
    def _body_is_what_the_vendor_sends(self, info: ValidationInfo):
        stream = (info.context or {}).get("stream")
        if stream is not None and stream != self.vendor:
            raise ValueError(f"an event of {self.vendor} stored under {stream}")
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must carry its time zone")
        if self.vendor == "shopify":
            self._parsed = shopify_body_model(self.topic).model_validate_json(self.body)
        elif self.vendor == "stripe":
            event = StripeEvent.model_validate_json(self.body)
            if event.id != self.event_id or event.type != self.topic:
                raise ValueError("the body's event id or type differs from the stored event's")
            self._parsed = event
        else:
            batch = AdyenNotification.model_validate_json(self.body)
            if self.item_index is None or not 0 <= self.item_index < len(batch.notificationItems):
                raise ValueError("item_index does not point at a notification item of the body")
            self._parsed = batch.notificationItems[self.item_index].NotificationRequestItem
        return self

    @property
    def parsed(self) -> BaseModel:
        """The vendor payload: a Shopify Order/Refund/ShopifyResource, a StripeEvent or an AdyenNotificationItem."""
        return self._parsed
