"""Value helpers shared by the builders: money, dates in order, line items and their totals."""

from __future__ import annotations

import datetime as dt
from typing import Any

from stages.tasks.edgejson.templates import Ctx

PRODUCTS = [
    "Wireless Mouse", "USB-C Charger", "Bluetooth Speaker", "Mechanical Keyboard", "Noise-Cancelling Headphones",
    "Stainless Steel Water Bottle", "Yoga Mat", "LED Desk Lamp", "Coffee Grinder", "Running Shoes",
    "Backpack", "Cast Iron Skillet", "Electric Kettle", "Phone Case", "HDMI Cable", "Portable SSD",
    "Webcam", "Desk Organizer", "Air Purifier", "Smart Thermostat", "Chef's Knife", "Throw Blanket",
    "Ceramic Mug Set", "Fitness Tracker", "Laptop Stand", "Wool Socks", "Rain Jacket", "Graphic Tablet",
    "Monitor Arm", "Power Bank", "Tea Sampler", "Hiking Boots", "French Press", "Label Printer",
]


def money(ctx: Ctx, lo: float, hi: float) -> float:
    """A price in [lo, hi] with two decimals, as a float."""
    return round(ctx.rng.uniform(lo, hi), 2)


def date_between(ctx: Ctx, start_year: int = 2021, end_year: int = 2025) -> dt.date:
    start = dt.date(start_year, 1, 1).toordinal()
    end = dt.date(end_year, 12, 31).toordinal()
    return dt.date.fromordinal(ctx.rng.randint(start, end))


def date_pair(ctx: Ctx, max_days: int = 60) -> tuple[dt.date, dt.date]:
    """Two dates with the second on or after the first."""
    first = date_between(ctx)
    return first, first + dt.timedelta(days=ctx.rng.randint(0, max_days))


def datetime_iso(ctx: Ctx, base: dt.date | None = None) -> str:
    """An RFC 3339 date-time in UTC, to the second (`2024-03-05T14:07:09Z`)."""
    day = base or date_between(ctx)
    moment = dt.datetime(day.year, day.month, day.day, ctx.rng.randint(0, 23), ctx.rng.randint(0, 59), ctx.rng.randint(0, 59))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def line_items(ctx: Ctx, n_min: int = 1, n_max: int = 4, name_key: str = "name") -> list[dict[str, Any]]:
    """Distinct products with quantity and unit price; unit prices are at least 1.00."""
    names = ctx.rng.sample(PRODUCTS, ctx.rng.randint(n_min, n_max))
    return [{name_key: n, "quantity": ctx.rng.randint(1, 5), "unit_price": money(ctx, 1.0, 250.0)} for n in names]


def finance_totals(
    ctx: Ctx,
    items: list[dict[str, Any]],
    discount_percentage: float = 0.0,
    tax_rate: float = 0.0,
    shipping: float = 0.0,
) -> dict[str, float]:
    """Subtotal, tax and total derived from the line items, rounded to cents at each step.

    total = subtotal * (1 - discount_percentage / 100) + tax + shipping, where tax is
    tax_rate applied to the discounted subtotal. Under generator revision v2 (the historical
    defect) the last line item is left out of the sum, so the stated subtotal and total do
    not match the items; this is how 11.7% of the original release came to be corrupt.
    """
    counted = items[:-1] if ctx.legacy_totals_bug and len(items) > 0 else items
    subtotal = round(sum(i["quantity"] * i["unit_price"] for i in counted), 2)
    discounted = round(subtotal * (1 - discount_percentage / 100), 2)
    tax = round(discounted * tax_rate, 2)
    total = round(discounted + tax + shipping, 2)
    return {"subtotal": subtotal, "tax": tax, "total": total}
