"""A runnable module of user-defined kinds: `jobdeck --handlers examples.shop:registry worker`.

It shows the whole surface a kind author touches: a pydantic payload model, a policy gate with an
explicit reason, a handler that raises Retryable or Terminal, and a result that is plain JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from jobdeck.core import PASS, GateContext, Registry, Result, Retryable, Terminal, deny, gate

registry = Registry()

STOCK = {"apple": 10, "pear": 0, "plum": 3}


class Order(BaseModel):
    order_id: str = Field(min_length=1)
    item: str
    quantity: int = Field(gt=0, le=100)


@gate("known_item")
def known_item(payload: Mapping[str, Any], ctx: GateContext) -> Result:
    item = payload.get("item")
    if item not in STOCK:
        return deny("known_item", "unknown_item", f"The shop does not sell {item!r}.", field="item")
    return PASS


@registry.kind("shop.reserve", payload=Order, gates=[known_item], max_attempts=4, timeout=5)
async def reserve(ctx: Any, order: Order) -> dict[str, Any]:
    """Reserve stock for an order. Out of stock is final; a busy warehouse is worth a retry."""
    if STOCK[order.item] == 0:
        raise Terminal(f"{order.item} is out of stock.", code="out_of_stock", item=order.item)
    if order.quantity > STOCK[order.item]:
        raise Retryable("The warehouse is restocking; try again shortly.", code="restocking")
    return {"order_id": order.order_id, "reserved": order.quantity, "item": order.item}
