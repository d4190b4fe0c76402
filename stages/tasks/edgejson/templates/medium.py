"""Builders for the medium tier: 4-8 fields, 1-2 levels of nesting or arrays."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from stages.tasks.edgejson.templates import Ctx, builder
from stages.tasks.edgejson.templates.common import date_between, date_pair, datetime_iso, finance_totals, line_items, money


@builder(
    "shopping_cart",
    synonyms={
        "cart_id": ["cart ID", "cart number", "basket reference"],
        "customer_email": ["customer email", "shopper's email", "email on the account"],
        "items": ["items", "products", "cart contents"],
        "name": ["item", "product", "article"],
        "quantity": ["quantity", "qty", "units"],
        "unit_price": ["unit price", "price each", "price per unit"],
        "discount_percentage": ["discount (%)", "percent off", "discount rate in percent"],
        "subtotal": ["subtotal", "sum before discount", "items subtotal"],
        "tax": ["tax", "sales tax", "VAT amount"],
        "shipping_cost": ["shipping", "delivery charge", "shipping fee"],
        "total": ["total", "grand total", "amount due"],
    },
)
def shopping_cart(ctx: Ctx) -> dict[str, Any]:
    items = line_items(ctx, 2, 4)
    discount = ctx.rng.choice([0, 0, 5, 10, 15, 20])
    shipping = ctx.rng.choice([0.0, 4.99, 7.5, 12.0])
    totals = finance_totals(ctx, items, discount_percentage=discount, tax_rate=ctx.rng.choice([0.0, 0.07, 0.0825, 0.2]), shipping=shipping)
    return {
        "cart_id": f"CART-{ctx.rng.randint(0, 999999):06d}",
        "customer_email": ctx.fake.email(),
        "items": items,
        "discount_percentage": discount,
        "subtotal": totals["subtotal"],
        "tax": totals["tax"],
        "shipping_cost": shipping,
        "total": totals["total"],
    }


_ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"


def _uuid4(ctx: Ctx) -> str:
    return str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))


def _person(ctx: Ctx) -> str:
    """A plain 'First Last' name (Faker's name() may carry prefixes such as 'Dr.' or suffixes)."""
    return f"{ctx.fake.first_name()} {ctx.fake.last_name()}"


def _later(ctx: Ctx, iso: str, min_minutes: int, max_minutes: int) -> str:
    """An RFC 3339 UTC date-time `min_minutes`..`max_minutes` after `iso` (same format)."""
    moment = dt.datetime.strptime(iso, _ISO_SECONDS) + dt.timedelta(minutes=ctx.rng.randint(min_minutes, max_minutes))
    return moment.strftime(_ISO_SECONDS)


@builder(
    "invoice",
    synonyms={
        "invoice_number": ["invoice number", "invoice no.", "invoice reference"],
        "issue_date": ["issue date", "invoice date", "date issued"],
        "due_date": ["due date", "payment due", "pay by"],
        "line_items": ["line items", "billed items", "invoice lines"],
        "description": ["description", "item", "billed product"],
        "quantity": ["quantity", "qty", "units"],
        "unit_price": ["unit price", "rate", "price per unit"],
        "subtotal": ["subtotal", "net amount", "sum of lines"],
        "tax": ["tax", "VAT", "sales tax"],
        "total_amount": ["total amount", "invoice total", "amount due"],
    },
)
def invoice(ctx: Ctx) -> dict[str, Any]:
    issued = date_between(ctx)
    due = issued + dt.timedelta(days=ctx.rng.choice([0, 7, 14, 15, 30, 30, 45, 60, 90]))
    items = line_items(ctx, 2, 4, name_key="description")
    totals = finance_totals(ctx, items, tax_rate=ctx.rng.choice([0.0, 0.05, 0.08, 0.1, 0.19, 0.2]))
    return {
        "invoice_number": f"INV-{issued.year}-{ctx.rng.randint(1, 99999):05d}",
        "issue_date": issued.isoformat(),
        "due_date": due.isoformat(),
        "line_items": items,
        "subtotal": totals["subtotal"],
        "tax": totals["tax"],
        "total_amount": totals["total"],
    }


@builder(
    "order_details",
    synonyms={
        "order_id": ["order ID", "order number", "order reference"],
        "order_date": ["order date", "date ordered", "placed on"],
        "items": ["items", "ordered products", "order lines"],
        "product": ["product", "item", "article"],
        "quantity": ["quantity", "qty", "units ordered"],
        "unit_price": ["unit price", "price each", "price per unit"],
        "subtotal": ["subtotal", "merchandise subtotal", "items subtotal"],
        "tax": ["tax", "sales tax", "tax amount"],
        "shipping_cost": ["shipping cost", "shipping", "delivery fee"],
        "total": ["total", "order total", "grand total"],
    },
)
def order_details(ctx: Ctx) -> dict[str, Any]:
    items = line_items(ctx, 2, 4, name_key="product")
    shipping = ctx.rng.choice([0.0, 3.99, 5.95, 8.5, 12.0, 19.99])
    totals = finance_totals(ctx, items, tax_rate=ctx.rng.choice([0.0, 0.0625, 0.07, 0.0825, 0.1]), shipping=shipping)
    return {
        "order_id": f"ORD-{ctx.rng.randint(0, 99999999):08d}",
        "order_date": date_between(ctx).isoformat(),
        "items": items,
        "subtotal": totals["subtotal"],
        "tax": totals["tax"],
        "shipping_cost": shipping,
        "total": totals["total"],
    }


_MERCHANT_CATEGORIES = ["groceries", "electronics", "travel", "dining", "utilities", "entertainment", "healthcare", "clothing"]
_CURRENCIES = ["USD", "USD", "EUR", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF"]


@builder(
    "transaction_record",
    synonyms={
        "transaction_id": ["transaction ID", "transaction reference", "txn ID"],
        "timestamp": ["timestamp", "time of transaction", "processed at"],
        "transaction_type": ["transaction type", "kind of transaction", "txn type"],
        "amount": ["amount", "transaction amount", "sum charged"],
        "currency": ["currency", "currency code", "ISO currency"],
        "status": ["status", "settlement status", "transaction state"],
        "merchant": ["merchant", "payee", "vendor"],
        "name": ["merchant name", "business name", "store"],
        "category": ["category", "merchant category", "spending category"],
        "country": ["country", "merchant country code", "country of merchant"],
    },
)
def transaction_record(ctx: Ctx) -> dict[str, Any]:
    currency = ctx.rng.choice(_CURRENCIES)
    amount: float | int = money(ctx, 1.0, 2500.0)
    if currency == "JPY":  # yen has no minor unit
        amount = ctx.rng.randint(100, 300000)
    return {
        "transaction_id": _uuid4(ctx),
        "timestamp": datetime_iso(ctx),
        "transaction_type": ctx.rng.choice(["purchase", "purchase", "purchase", "refund", "payment", "subscription", "chargeback"]),
        "amount": amount,
        "currency": currency,
        "status": ctx.rng.choice(["completed", "completed", "completed", "pending", "failed", "reversed"]),
        "merchant": {
            "name": ctx.fake.company(),
            "category": ctx.rng.choice(_MERCHANT_CATEGORIES),
            "country": ctx.fake.country_code(),
        },
    }


# Ticket subject -> tags that fit it.
_TICKET_SUBJECTS: dict[str, list[str]] = {
    "Cannot log in after password reset": ["login", "account", "password"],
    "Charged twice for the same order": ["billing", "duplicate-charge", "refund"],
    "Order arrived damaged": ["shipping", "damaged-item", "replacement"],
    "Refund not received after 10 days": ["billing", "refund"],
    "App crashes when uploading photos": ["bug", "mobile-app", "upload"],
    "Two-factor code never arrives": ["login", "2fa", "sms"],
    "Request to change shipping address": ["shipping", "address-change"],
    "Export to CSV times out": ["bug", "export", "performance"],
    "Subscription renewed without notice": ["billing", "subscription", "refund"],
    "Package marked delivered but not received": ["shipping", "lost-package"],
    "Unable to update credit card details": ["billing", "payment-method", "account"],
    "Dashboard loads very slowly": ["performance", "dashboard"],
    "Wrong size sent in my order": ["shipping", "wrong-item", "exchange"],
    "How do I cancel my account?": ["account", "cancellation"],
    "Promo code not applied at checkout": ["billing", "promo-code", "checkout"],
    "API returns 500 on bulk import": ["bug", "api", "import"],
    "Email notifications stopped working": ["bug", "notifications", "email"],
    "Invoice shows incorrect VAT number": ["billing", "invoice", "tax"],
    "Need to add a user to our team plan": ["account", "team-plan", "seats"],
    "Sync fails between desktop and phone": ["bug", "sync", "mobile-app"],
}


@builder(
    "support_ticket",
    synonyms={
        "ticket_id": ["ticket ID", "ticket number", "case number"],
        "subject": ["subject", "issue summary", "ticket title"],
        "priority": ["priority", "urgency", "priority level"],
        "status": ["status", "ticket status", "current state"],
        "created_at": ["created at", "opened on", "submitted at"],
        "updated_at": ["updated at", "last updated", "last activity"],
        "customer": ["customer", "requester", "reported by"],
        "name": ["customer name", "requester name", "name"],
        "email": ["customer email", "contact email", "email"],
        "tags": ["tags", "labels", "ticket tags"],
    },
)
def support_ticket(ctx: Ctx) -> dict[str, Any]:
    subject = ctx.rng.choice(sorted(_TICKET_SUBJECTS))
    candidate_tags = _TICKET_SUBJECTS[subject]
    created = datetime_iso(ctx)
    return {
        "ticket_id": f"TKT-{ctx.rng.randint(0, 999999):06d}",
        "subject": subject,
        "priority": ctx.rng.choice(["low", "medium", "medium", "high", "urgent"]),
        "status": ctx.rng.choice(["open", "in_progress", "waiting_on_customer", "resolved", "closed"]),
        "created_at": created,
        "updated_at": _later(ctx, created, 0, 14 * 24 * 60),
        "customer": {"name": _person(ctx), "email": ctx.fake.email()},
        "tags": ctx.rng.sample(candidate_tags, ctx.rng.randint(1, len(candidate_tags))),
    }


_EVENT_TOPICS = ["Cloud Native", "Data Engineering", "AI Product", "DevOps", "Frontend", "Cybersecurity", "Open Source",
                 "Fintech", "Digital Health", "Climate Tech", "Game Developers", "Product Management", "UX Research"]
_EVENT_KINDS = ["Summit", "Conference", "Forum", "Expo", "Days", "Week", "Symposium"]
_WORKSHOPS = [
    "Intro to Kubernetes", "Hands-on Prompt Engineering", "Scaling PostgreSQL", "Threat Modeling 101",
    "Building Accessible UIs", "Data Contracts in Practice", "Observability with OpenTelemetry",
    "Writing Better RFCs", "Terraform at Scale", "Design Systems Lab", "Fine-tuning Small LLMs",
    "Incident Response Drill", "Rust for Python Developers", "Pricing Strategy Clinic",
]


@builder(
    "event_registration",
    synonyms={
        "registration_id": ["registration ID", "booking reference", "confirmation number"],
        "event_name": ["event name", "event", "conference"],
        "start_date": ["start date", "first day", "begins on"],
        "end_date": ["end date", "last day", "ends on"],
        "attendee": ["attendee", "registrant", "participant"],
        "full_name": ["full name", "attendee name", "name"],
        "email": ["email", "attendee email", "contact email"],
        "organization": ["organization", "company", "employer"],
        "ticket_type": ["ticket type", "pass type", "registration tier"],
        "workshops": ["workshops", "sessions booked", "add-on workshops"],
    },
)
def event_registration(ctx: Ctx) -> dict[str, Any]:
    start, end = date_pair(ctx, max_days=4)
    return {
        "registration_id": _uuid4(ctx),
        "event_name": f"{ctx.rng.choice(_EVENT_TOPICS)} {ctx.rng.choice(_EVENT_KINDS)} {start.year}",
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "attendee": {"full_name": _person(ctx), "email": ctx.fake.email(), "organization": ctx.fake.company()},
        "ticket_type": ctx.rng.choice(["general", "general", "vip", "student", "speaker", "exhibitor"]),
        "workshops": ctx.rng.sample(_WORKSHOPS, ctx.rng.randint(1, 3)),
    }


# Email subject -> labels that fit it.
_EMAIL_SUBJECTS: dict[str, list[str]] = {
    "Q3 budget review - action needed": ["work", "finance", "important"],
    "Your flight itinerary to Lisbon": ["travel", "personal"],
    "Re: Contract draft v2": ["work", "important"],
    "Weekly team sync notes": ["work"],
    "Invoice for March services": ["finance", "work"],
    "Dinner on Saturday?": ["personal"],
    "Your order has shipped": ["personal", "promotions"],
    "Reminder: performance reviews due Friday": ["work", "important"],
    "Hotel booking confirmation": ["travel", "finance"],
    "Fwd: Updated project timeline": ["work"],
    "Summer sale - 30% off everything": ["promotions"],
    "Tax documents for 2024": ["finance", "important", "personal"],
    "Onboarding checklist for new hires": ["work"],
    "Photos from the weekend": ["personal", "starred"],
    "Security alert: new sign-in detected": ["important"],
    "Re: Quote request for office chairs": ["work", "finance"],
}


@builder(
    "email_metadata",
    synonyms={
        "message_id": ["message ID", "email ID", "message identifier"],
        "sender": ["sender", "from", "sent by"],
        "recipients": ["recipients", "to", "sent to"],
        "subject": ["subject", "subject line", "email title"],
        "sent_at": ["sent at", "send time", "date sent"],
        "attachment_count": ["attachment count", "number of attachments", "attachments"],
        "labels": ["labels", "folders", "mail tags"],
    },
)
def email_metadata(ctx: Ctx) -> dict[str, Any]:
    subject = ctx.rng.choice(sorted(_EMAIL_SUBJECTS))
    fitting = ["inbox", *_EMAIL_SUBJECTS[subject]]
    sender = ctx.fake.email()
    recipients: list[str] = []
    for _ in range(ctx.rng.randint(1, 3)):
        address = ctx.fake.email()
        if address != sender and address not in recipients:
            recipients.append(address)
    if not recipients:
        recipients.append(f"{ctx.fake.user_name()}@{ctx.fake.domain_name()}")
    return {
        "message_id": _uuid4(ctx),
        "sender": sender,
        "recipients": recipients,
        "subject": subject,
        "sent_at": datetime_iso(ctx),
        "attachment_count": ctx.rng.choice([0, 0, 0, 1, 1, 2, 3, 5]),
        "labels": ctx.rng.sample(fitting, ctx.rng.randint(1, min(3, len(fitting)))),
    }


_API_RESOURCES = ["users", "orders", "invoices", "products", "payments", "customers", "projects", "reports", "webhooks"]
# Method -> plausible status codes, successes weighted up.
_API_CODES: dict[str, list[int]] = {
    "GET": [200, 200, 200, 200, 401, 403, 404, 429, 500, 503],
    "POST": [201, 201, 201, 200, 400, 401, 409, 422, 429, 502],
    "PUT": [200, 200, 200, 400, 404, 409, 422, 500],
    "PATCH": [200, 200, 200, 400, 403, 404, 422],
    "DELETE": [204, 204, 204, 200, 401, 403, 404, 500],
}


@builder(
    "api_response",
    synonyms={
        "request_id": ["request ID", "trace ID", "correlation ID"],
        "method": ["method", "HTTP method", "verb"],
        "endpoint": ["endpoint", "path", "route"],
        "status_code": ["status code", "HTTP status", "response code"],
        "status": ["status", "outcome", "result"],
        "response_time_ms": ["response time (ms)", "latency in milliseconds", "duration ms"],
        "timestamp": ["timestamp", "logged at", "time of request"],
        "rate_limit": ["rate limit", "quota", "throttling info"],
        "limit": ["limit", "request limit", "quota size"],
        "remaining": ["remaining", "requests left", "remaining quota"],
    },
)
def api_response(ctx: Ctx) -> dict[str, Any]:
    method = ctx.rng.choice(["GET", "GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE"])
    resource = ctx.rng.choice(_API_RESOURCES)
    endpoint = f"/api/v{ctx.rng.randint(1, 3)}/{resource}"
    if method != "POST" and (method != "GET" or ctx.rng.random() < 0.6):
        endpoint += f"/{ctx.rng.randint(100, 99999)}"
    code = ctx.rng.choice(_API_CODES[method])
    limit = ctx.rng.choice([60, 100, 500, 1000, 5000, 10000])
    remaining = 0 if code == 429 else ctx.rng.randint(0, limit - 1)
    return {
        "request_id": _uuid4(ctx),
        "method": method,
        "endpoint": endpoint,
        "status_code": code,
        "status": "success" if code < 400 else "error",
        "response_time_ms": ctx.rng.randint(800, 30000) if code in (502, 503) else ctx.rng.randint(8, 1500),
        "timestamp": datetime_iso(ctx),
        "rate_limit": {"limit": limit, "remaining": remaining},
    }


_MEETING_TITLES = [
    "Sprint Planning", "Quarterly Business Review", "Product Roadmap Sync", "Design Review", "Hiring Committee",
    "Incident Postmortem", "Marketing Launch Prep", "Budget Planning", "Customer Feedback Review", "Architecture Review",
    "Weekly Standup", "Vendor Evaluation", "Onboarding Kickoff", "Sales Pipeline Review", "Security Audit Follow-up",
]
_MEETING_LOCATIONS = ["Zoom", "Microsoft Teams", "Google Meet", "Conference Room A", "Conference Room B",
                      "Board Room", "Main Office 3rd Floor", "Cafeteria Lounge"]
_MEETING_TASKS = [
    "Draft the project brief", "Update the budget forecast", "Schedule user interviews", "Fix the login timeout bug",
    "Send recap to stakeholders", "Review vendor contracts", "Prepare demo for Friday", "Write the postmortem report",
    "Collect Q3 sales figures", "Book venue for offsite", "Update the onboarding docs", "File the security exceptions",
    "Finalize the launch checklist", "Share wireframes with design", "Benchmark the new API",
]


@builder(
    "meeting_notes",
    synonyms={
        "meeting_title": ["meeting title", "meeting", "agenda topic"],
        "organizer_email": ["organizer email", "organizer", "host's email"],
        "location": ["location", "venue", "where"],
        "start_time": ["start time", "started at", "began"],
        "end_time": ["end time", "ended at", "finished"],
        "attendees": ["attendees", "participants", "present"],
        "action_items": ["action items", "follow-ups", "to-dos"],
        "task": ["task", "action", "to-do"],
        "owner": ["owner", "assignee", "responsible"],
    },
)
def meeting_notes(ctx: Ctx) -> dict[str, Any]:
    attendees: list[str] = []
    for _ in range(ctx.rng.randint(2, 4)):
        name = _person(ctx)
        if name not in attendees:
            attendees.append(name)
    start = datetime_iso(ctx)
    tasks = ctx.rng.sample(_MEETING_TASKS, ctx.rng.randint(1, 3))
    return {
        "meeting_title": ctx.rng.choice(_MEETING_TITLES),
        "organizer_email": ctx.fake.email(),
        "location": ctx.rng.choice(_MEETING_LOCATIONS),
        "start_time": start,
        "end_time": _later(ctx, start, 15, 120),
        "attendees": attendees,
        "action_items": [{"task": t, "owner": ctx.rng.choice(attendees)} for t in tasks],
    }


_DIAGNOSES = [
    ("E11.9", "Type 2 diabetes mellitus without complications"), ("I10", "Essential hypertension"),
    ("J18.9", "Pneumonia, unspecified organism"), ("N39.0", "Urinary tract infection"),
    ("K35.80", "Acute appendicitis"), ("I21.4", "Non-ST elevation myocardial infarction"),
    ("J44.1", "COPD with acute exacerbation"), ("S72.001A", "Fracture of right femoral neck"),
    ("I48.91", "Atrial fibrillation"), ("K80.20", "Gallstones without obstruction"),
    ("A41.9", "Sepsis, unspecified organism"), ("I63.9", "Cerebral infarction"),
    ("J45.901", "Asthma with acute exacerbation"), ("N17.9", "Acute kidney failure"),
    ("I50.9", "Heart failure, unspecified"), ("K92.2", "Gastrointestinal hemorrhage"),
    ("E87.1", "Hyponatremia"), ("L03.115", "Cellulitis of right lower limb"),
]
_MEDICATIONS = [
    "Metformin 500 mg", "Lisinopril 10 mg", "Atorvastatin 20 mg", "Amoxicillin 875 mg", "Apixaban 5 mg",
    "Metoprolol 25 mg", "Furosemide 40 mg", "Omeprazole 20 mg", "Ceftriaxone 1 g", "Prednisone 40 mg",
    "Albuterol inhaler", "Insulin glargine 20 units", "Acetaminophen 650 mg", "Enoxaparin 40 mg", "Aspirin 81 mg",
]


@builder(
    "medical_record",
    synonyms={
        "patient_id": ["patient ID", "MRN", "medical record number"],
        "patient": ["patient", "patient details", "patient info"],
        "name": ["patient name", "name", "full name"],
        "date_of_birth": ["date of birth", "DOB", "born"],
        "sex": ["sex", "gender", "sex at birth"],
        "admission_date": ["admission date", "admitted", "date of admission"],
        "discharge_date": ["discharge date", "discharged", "date of discharge"],
        "attending_physician": ["attending physician", "treating doctor", "attending"],
        "diagnoses": ["diagnoses", "conditions", "diagnosis list"],
        "icd10_code": ["ICD-10 code", "diagnosis code", "ICD code"],
        "description": ["description", "diagnosis", "condition"],
        "medications": ["medications", "prescriptions", "drugs given"],
    },
)
def medical_record(ctx: Ctx) -> dict[str, Any]:
    admitted, discharged = date_pair(ctx, max_days=21)
    sex = ctx.rng.choice(["female", "male", "female", "male", "other"])
    first = {"female": ctx.fake.first_name_female, "male": ctx.fake.first_name_male}.get(sex, ctx.fake.first_name)()
    return {
        "patient_id": f"MRN-{ctx.rng.randint(0, 9999999):07d}",
        "patient": {
            "name": f"{first} {ctx.fake.last_name()}",
            "date_of_birth": date_between(ctx, 1935, 2005).isoformat(),
            "sex": sex,
        },
        "admission_date": admitted.isoformat(),
        "discharge_date": discharged.isoformat(),
        "attending_physician": f"Dr. {_person(ctx)}",
        "diagnoses": [{"icd10_code": c, "description": d} for c, d in ctx.rng.sample(_DIAGNOSES, ctx.rng.randint(1, 2))],
        "medications": ctx.rng.sample(_MEDICATIONS, ctx.rng.randint(1, 3)),
    }
