"""Builders for the simple tier: 2-4 flat fields."""

from __future__ import annotations

import uuid
from typing import Any

from faker.providers.geo import Provider as GeoProvider

from stages.tasks.edgejson.templates import Ctx, builder
from stages.tasks.edgejson.templates.common import PRODUCTS, date_between, datetime_iso, money

# Category and a plausible list-price range for every product in common.PRODUCTS.
PRODUCT_CATEGORIES: dict[str, tuple[str, float, float]] = {
    "Wireless Mouse": ("electronics", 12.0, 80.0),
    "USB-C Charger": ("electronics", 10.0, 60.0),
    "Bluetooth Speaker": ("electronics", 25.0, 250.0),
    "Mechanical Keyboard": ("electronics", 45.0, 220.0),
    "Noise-Cancelling Headphones": ("electronics", 60.0, 400.0),
    "Stainless Steel Water Bottle": ("sports", 12.0, 45.0),
    "Yoga Mat": ("sports", 15.0, 90.0),
    "LED Desk Lamp": ("home", 18.0, 120.0),
    "Coffee Grinder": ("kitchen", 20.0, 180.0),
    "Running Shoes": ("apparel", 50.0, 200.0),
    "Backpack": ("apparel", 25.0, 150.0),
    "Cast Iron Skillet": ("kitchen", 20.0, 90.0),
    "Electric Kettle": ("kitchen", 20.0, 120.0),
    "Phone Case": ("electronics", 8.0, 50.0),
    "HDMI Cable": ("electronics", 5.0, 30.0),
    "Portable SSD": ("electronics", 50.0, 300.0),
    "Webcam": ("electronics", 25.0, 180.0),
    "Desk Organizer": ("office", 10.0, 45.0),
    "Air Purifier": ("home", 60.0, 450.0),
    "Smart Thermostat": ("home", 90.0, 280.0),
    "Chef's Knife": ("kitchen", 20.0, 180.0),
    "Throw Blanket": ("home", 20.0, 90.0),
    "Ceramic Mug Set": ("kitchen", 15.0, 60.0),
    "Fitness Tracker": ("sports", 30.0, 250.0),
    "Laptop Stand": ("office", 20.0, 90.0),
    "Wool Socks": ("apparel", 8.0, 30.0),
    "Rain Jacket": ("apparel", 40.0, 250.0),
    "Graphic Tablet": ("electronics", 40.0, 400.0),
    "Monitor Arm": ("office", 25.0, 150.0),
    "Power Bank": ("electronics", 15.0, 90.0),
    "Tea Sampler": ("grocery", 10.0, 40.0),
    "Hiking Boots": ("apparel", 70.0, 250.0),
    "French Press": ("kitchen", 15.0, 70.0),
    "Label Printer": ("office", 30.0, 150.0),
}


@builder(
    "contact_info",
    synonyms={
        "full_name": ["full name", "name", "contact name"],
        "email": ["email", "email address", "e-mail"],
        "phone": ["phone", "phone number", "telephone"],
    },
)
def contact_info(ctx: Ctx) -> dict[str, Any]:
    return {
        "full_name": f"{ctx.fake.first_name()} {ctx.fake.last_name()}",
        "email": ctx.fake.email(),
        "phone": f"+1-{ctx.rng.randint(201, 989)}-{ctx.rng.randint(200, 999)}-{ctx.rng.randint(0, 9999):04d}",
    }


@builder(
    "product_info",
    synonyms={
        "sku": ["SKU", "stock code", "item number"],
        "product_name": ["product name", "product", "item"],
        "category": ["category", "department", "product type"],
        "price": ["price", "list price", "retail price"],
    },
)
def product_info(ctx: Ctx) -> dict[str, Any]:
    name = ctx.rng.choice(PRODUCTS)
    category, lo, hi = PRODUCT_CATEGORIES[name]
    return {
        "sku": f"SKU-{ctx.rng.randint(0, 99999):05d}",
        "product_name": name,
        "category": category,
        "price": money(ctx, lo, hi),
    }


# metric -> (low, high) of a plausible reading.
SENSOR_RANGES: dict[str, tuple[float, float]] = {
    "temperature_c": (-15.0, 38.0),
    "humidity_pct": (15.0, 95.0),
    "pressure_hpa": (975.0, 1040.0),
}


@builder(
    "sensor_reading",
    synonyms={
        "sensor_id": ["sensor ID", "device", "sensor"],
        "metric": ["metric", "measurement type", "quantity measured"],
        "value": ["value", "reading", "measured value"],
        "recorded_at": ["recorded at", "timestamp", "time of reading"],
    },
)
def sensor_reading(ctx: Ctx) -> dict[str, Any]:
    metric = ctx.rng.choice(sorted(SENSOR_RANGES))
    lo, hi = SENSOR_RANGES[metric]
    return {
        "sensor_id": f"SN-{ctx.rng.randint(0, 9999):04d}",
        "metric": metric,
        "value": round(ctx.rng.uniform(lo, hi), 1 if metric != "pressure_hpa" else 2),
        "recorded_at": datetime_iso(ctx),
    }


# Faker's gazetteer of populated places on land, less the few names stored mis-encoded ("‚Äô").
LAND_PLACES: list[tuple[float, float, str, str]] = [
    (float(lat), float(lon), name, cc) for lat, lon, name, cc, _tz in GeoProvider.land_coords if "‚Äô" not in name
]


@builder(
    "location",
    synonyms={
        "city": ["city", "town", "place"],
        "country_code": ["country code", "country", "ISO country"],
        "latitude": ["latitude", "lat", "degrees north"],
        "longitude": ["longitude", "lon", "degrees east"],
    },
)
def location(ctx: Ctx) -> dict[str, Any]:
    # A real place from Faker's gazetteer, so name, country and coordinates agree; the point is
    # moved up to ~5 km from the town centre so that records of the same town still differ.
    lat, lon, city, country_code = ctx.rng.choice(LAND_PLACES)
    return {
        "city": city,
        "country_code": country_code,
        "latitude": round(lat + ctx.rng.uniform(-0.05, 0.05), 2),
        "longitude": round(lon + ctx.rng.uniform(-0.05, 0.05), 2),
    }


LOG_SERVICES = [
    "auth-service", "billing-api", "checkout", "search-indexer", "notification-worker", "user-api",
    "payment-gateway", "inventory-sync", "report-builder", "image-resizer", "api-gateway", "scheduler",
]

# level -> message templates; {n}, {ms}, {id}, {host} and {pct} are filled in per record.
LOG_MESSAGES: dict[str, list[str]] = {
    "DEBUG": [
        "Cache miss for key user:{id}",
        "Fetched {n} rows in {ms} ms",
        "Retrying request {id} (attempt {small})",
        "Loaded config from /etc/app/config.yaml",
        "Opened connection to {host}",
    ],
    "INFO": [
        "User {id} logged in",
        "Processed batch of {n} records in {ms} ms",
        "Order {id} created",
        "Server started on port {port}",
        "Scheduled job completed in {ms} ms",
    ],
    "WARNING": [
        "Slow query took {ms} ms",
        "Disk usage at {pct}% on /var/data",
        "Rate limit close for client {id}",
        "Retrying connection to {host} (attempt {small})",
        "Deprecated endpoint called by client {id}",
    ],
    "ERROR": [
        "Connection to {host} timed out after {ms} ms",
        "Payment {id} failed: card declined",
        "Failed to parse payload for request {id}",
        "Database connection pool exhausted",
        "Unhandled exception in worker {small}",
    ],
}


@builder(
    "log_entry",
    synonyms={
        "timestamp": ["timestamp", "logged at", "time"],
        "level": ["level", "severity", "log level"],
        "service": ["service", "source", "component"],
        "message": ["message", "log message", "text"],
    },
)
def log_entry(ctx: Ctx) -> dict[str, Any]:
    level = ctx.rng.choices(["DEBUG", "INFO", "WARNING", "ERROR"], weights=[2, 4, 2, 2])[0]
    template = ctx.rng.choice(LOG_MESSAGES[level])
    message = template.format(
        n=ctx.rng.randint(2, 5000),
        ms=ctx.rng.randint(3, 30000),
        id=ctx.rng.randint(1000, 999999),
        host=f"db-{ctx.rng.randint(1, 12):02d}.internal",
        pct=ctx.rng.randint(80, 99),
        small=ctx.rng.randint(1, 5),
        port=ctx.rng.choice([80, 443, 3000, 5000, 8000, 8080, 8443, 9090]),
    )
    return {
        "timestamp": datetime_iso(ctx),
        "level": level,
        "service": ctx.rng.choice(LOG_SERVICES),
        "message": message,
    }


# (title template, channels it plausibly goes out on, priority)
NOTIFICATION_TEMPLATES: list[tuple[str, list[str], str]] = [
    ("Your order #{n} has shipped", ["email", "push", "sms"], "normal"),
    ("Your order #{n} was delivered", ["email", "push"], "normal"),
    ("Your verification code is {code}", ["sms", "email"], "high"),
    ("New sign-in from {city}", ["email", "push"], "high"),
    ("Your password was changed", ["email", "sms"], "high"),
    ("{name} sent you a message", ["push", "in_app"], "normal"),
    ("{name} commented on your post", ["push", "in_app", "email"], "low"),
    ("{name} started following you", ["push", "in_app"], "low"),
    ("Payment of ${amount:.2f} received", ["email", "push"], "normal"),
    ("Invoice #{n} is due in {days} days", ["email"], "normal"),
    ("Your subscription renews on {date}", ["email", "in_app"], "low"),
    ("Reminder: meeting at {hour}:00 today", ["push", "sms"], "normal"),
]


@builder(
    "notification",
    synonyms={
        "notification_id": ["notification ID", "message ID", "reference"],
        "channel": ["channel", "sent via", "delivery method"],
        "priority": ["priority", "urgency", "importance"],
        "title": ["title", "headline", "subject"],
    },
)
def notification(ctx: Ctx) -> dict[str, Any]:
    template, channels, priority = ctx.rng.choice(NOTIFICATION_TEMPLATES)
    title = template.format(
        n=ctx.rng.randint(10000, 999999),
        code=f"{ctx.rng.randint(0, 999999):06d}",
        city=ctx.fake.city(),
        name=ctx.fake.first_name(),
        amount=money(ctx, 5.0, 500.0),
        days=ctx.rng.randint(2, 14),
        date=date_between(ctx).isoformat(),
        hour=ctx.rng.randint(8, 17),
    )
    return {
        "notification_id": str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4)),
        "channel": ctx.rng.choice(channels),
        "priority": priority,
        "title": title,
    }


@builder(
    "rating",
    synonyms={
        "product_name": ["product", "product name", "item rated"],
        "reviewer_name": ["reviewer", "reviewer name", "rated by"],
        "stars": ["stars", "star rating", "score out of 5"],
        "review_date": ["review date", "date rated", "rated on"],
    },
)
def rating(ctx: Ctx) -> dict[str, Any]:
    return {
        "product_name": ctx.rng.choice(PRODUCTS),
        "reviewer_name": f"{ctx.fake.first_name()} {ctx.fake.last_name()}",
        "stars": ctx.rng.choices([1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 5])[0],
        "review_date": date_between(ctx).isoformat(),
    }


# (post title, tags that fit it)
POSTS: list[tuple[str, list[str]]] = [
    ("Getting Started with Python Type Hints", ["python", "typing", "tutorial", "programming"]),
    ("10 Easy Weeknight Pasta Recipes", ["recipes", "pasta", "cooking", "dinner"]),
    ("A Beginner's Guide to Trail Running", ["running", "outdoors", "fitness", "beginners"]),
    ("How We Cut Our Cloud Bill in Half", ["cloud", "aws", "devops", "cost-saving"]),
    ("Understanding Docker Volumes", ["docker", "containers", "devops", "tutorial"]),
    ("Budget Travel Tips for Southeast Asia", ["travel", "budget", "asia", "backpacking"]),
    ("Growing Tomatoes on a Balcony", ["gardening", "tomatoes", "urban-garden", "diy"]),
    ("Why Sleep Matters for Productivity", ["sleep", "health", "productivity", "wellness"]),
    ("Building a REST API with FastAPI", ["python", "fastapi", "api", "web-development"]),
    ("Home Espresso on a Budget", ["coffee", "espresso", "budget", "kitchen"]),
    ("Intro to Machine Learning with scikit-learn", ["machine-learning", "python", "data-science", "tutorial"]),
    ("Saving for Retirement in Your 30s", ["personal-finance", "retirement", "investing", "saving"]),
    ("Photographing the Night Sky", ["photography", "astronomy", "night-sky", "tips"]),
    ("Writing Clean Git Commit Messages", ["git", "best-practices", "programming", "teamwork"]),
    ("A Week of Vegan Meal Prep", ["vegan", "meal-prep", "recipes", "healthy-eating"]),
    ("Remote Work Setup Essentials", ["remote-work", "home-office", "productivity", "gear"]),
]


@builder(
    "tag_list",
    synonyms={
        "post_id": ["post ID", "article number", "post reference"],
        "title": ["title", "post title", "headline"],
        "tags": ["tags", "labels", "keywords"],
    },
)
def tag_list(ctx: Ctx) -> dict[str, Any]:
    title, pool = ctx.rng.choice(POSTS)
    return {
        "post_id": f"POST-{ctx.rng.randint(0, 99999):05d}",
        "title": title,
        "tags": ctx.rng.sample(pool, ctx.rng.randint(1, len(pool))),
    }


@builder(
    "user_profile",
    synonyms={
        "user_id": ["user ID", "account ID", "UUID"],
        "username": ["username", "login", "handle"],
        "email": ["email", "email address", "contact email"],
        "signup_date": ["signup date", "joined on", "member since"],
    },
)
def user_profile(ctx: Ctx) -> dict[str, Any]:
    return {
        "user_id": str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4)),
        "username": ctx.fake.user_name().lower(),
        "email": ctx.fake.email(),
        "signup_date": date_between(ctx).isoformat(),
    }


@builder(
    "simple_config",
    synonyms={
        "environment": ["environment", "env", "deployment stage"],
        "max_connections": ["max connections", "connection limit", "pool size"],
        "timeout_seconds": ["timeout (seconds)", "request timeout in seconds", "timeout"],
        "debug_mode": ["debug mode", "debug", "debugging enabled"],
    },
)
def simple_config(ctx: Ctx) -> dict[str, Any]:
    environment = ctx.rng.choice(["development", "staging", "production"])
    return {
        "environment": environment,
        "max_connections": ctx.rng.randrange(5, 1001, 5),
        "timeout_seconds": ctx.rng.choice([5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300]),
        # Debug mode is normally on in development and off in production.
        "debug_mode": ctx.rng.random() < {"development": 0.8, "staging": 0.3, "production": 0.05}[environment],
    }
