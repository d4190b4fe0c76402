"""Builders for the complex tier: 8+ fields, 2+ levels of nesting, arrays of objects, derived values."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from stages.tasks.edgejson.templates import Ctx, builder
from stages.tasks.edgejson.templates.common import PRODUCTS, date_between, datetime_iso, finance_totals, line_items, money


def _uuid4(ctx: Ctx) -> str:
    return str(uuid.UUID(int=ctx.rng.getrandbits(128), version=4))


def _short(text: str, fallback: str, limit: int = 50) -> str:
    """`text` when it is short, single-line and pipe-free; otherwise `fallback`."""
    return text if len(text) <= limit and "|" not in text and "\n" not in text else fallback


def _company(ctx: Ctx) -> str:
    return _short(ctx.fake.company(), f"{ctx.fake.last_name()} LLC")


def _timestamps(ctx: Ctx, start_year: int, end_year: int, max_days: int) -> tuple[str, str]:
    """created_at / updated_at date-times, the second strictly later (on a later day)."""
    created = date_between(ctx, start_year, end_year)
    updated = created + dt.timedelta(days=ctx.rng.randint(1, max_days))
    return datetime_iso(ctx, created), datetime_iso(ctx, updated)


# --- ecommerce_analytics -------------------------------------------------------------------

STORE_SUFFIXES = ["Outfitters", "Goods", "Market", "Supply Co.", "Home & Living", "Gear", "Emporium", "Essentials"]


@builder(
    "ecommerce_analytics",
    synonyms={
        "report_id": ["report ID", "report number", "analytics report reference"],
        "store_name": ["store", "shop name", "storefront"],
        "channel": ["sales channel", "channel", "traffic source"],
        "currency": ["currency", "reporting currency", "currency code"],
        "start_date": ["period start", "start date", "from"],
        "end_date": ["period end", "end date", "through"],
        "metrics": ["metrics", "traffic metrics", "KPIs"],
        "sessions": ["sessions", "site visits", "visits"],
        "orders": ["orders", "orders placed", "number of orders"],
        "conversion_rate": ["conversion rate (%)", "conversion %", "percent of sessions converting"],
        "average_order_value": ["average order value", "AOV", "avg basket size"],
        "product_count": ["number of products", "product count", "products listed"],
        "products": ["top products", "best sellers", "products"],
        "product_name": ["product", "item", "product name"],
        "units_sold": ["units sold", "units", "quantity sold"],
        "revenue": ["revenue", "sales", "gross sales"],
    },
)
def ecommerce_analytics(ctx: Ctx) -> dict[str, Any]:
    start = date_between(ctx)
    end = start + dt.timedelta(days=ctx.rng.choice([6, 13, 27, 29, 30]))
    sessions = ctx.rng.randint(2_000, 90_000)
    orders = max(1, round(sessions * ctx.rng.uniform(0.8, 4.5) / 100))
    products = []
    for name in ctx.rng.sample(PRODUCTS, ctx.rng.randint(2, 3)):
        units = ctx.rng.randint(5, max(6, orders // 4))
        products.append({"product_name": name, "units_sold": units, "revenue": round(units * money(ctx, 5.0, 150.0), 2)})
    return {
        "report_id": f"EAR-{ctx.rng.randint(0, 999999):06d}",
        "store_name": f"{ctx.fake.last_name()} {ctx.rng.choice(STORE_SUFFIXES)}",
        "channel": ctx.rng.choice(["web", "mobile_app", "marketplace", "social"]),
        "currency": ctx.rng.choice(["USD", "EUR", "GBP", "CAD", "AUD"]),
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "metrics": {
            "sessions": sessions,
            "orders": orders,
            "conversion_rate": round(orders / sessions * 100, 2),
            "average_order_value": money(ctx, 25.0, 180.0),
        },
        "product_count": len(products),
        "products": products,
    }


# --- iot_device_network --------------------------------------------------------------------

IOT_SITES = ["Warehouse B", "Plant 3", "Greenhouse 2", "Cold Storage", "Office Tower", "Data Hall A", "Loading Dock", "Pump Station 7", "Campus North", "Orchard Block 4"]
IOT_NETWORK_KINDS = ["Sensor Mesh", "Telemetry Net", "Monitoring Grid", "Environmental Array", "Asset Tracker Net"]
DEVICE_MODELS = [
    "Bosch BME680", "Sensirion SCD41", "Aqara TH Sensor", "Shelly Plus 1PM", "Nordic Thingy:91", "Dragino LHT65",
    "Milesight EM300-TH", "Honeywell T6 Pro", "Particle Boron", "ESP32-C3 DevKit", "Elsys ERS CO2", "Tektelic Kona",
]


@builder(
    "iot_device_network",
    synonyms={
        "network_id": ["network ID", "network UUID", "network identifier"],
        "network_name": ["network name", "network", "mesh name"],
        "protocol": ["protocol", "radio protocol", "wireless standard"],
        "created_at": ["created at", "provisioned on", "set up at"],
        "updated_at": ["updated at", "last modified", "last config change"],
        "gateway": ["gateway", "hub", "edge gateway"],
        "gateway_id": ["gateway ID", "hub ID", "gateway serial"],
        "firmware_version": ["firmware version", "firmware", "FW version"],
        "ip_address": ["IP address", "IPv4 address", "gateway IP"],
        "device_count": ["device count", "number of devices", "devices attached"],
        "devices": ["devices", "sensors", "nodes"],
        "device_id": ["device ID", "node ID", "sensor ID"],
        "model": ["model", "device model", "hardware model"],
        "status": ["status", "device status", "state"],
        "battery_level": ["battery level (%)", "battery %", "charge level"],
    },
)
def iot_device_network(ctx: Ctx) -> dict[str, Any]:
    created, updated = _timestamps(ctx, 2021, 2025, 400)
    devices = []
    for model in ctx.rng.sample(DEVICE_MODELS, ctx.rng.randint(2, 3)):
        battery = ctx.rng.randint(3, 100)
        status = "low_battery" if battery < 15 else ctx.rng.choice(["online", "online", "online", "offline", "maintenance"])
        devices.append({"device_id": f"DEV-{ctx.rng.randint(0, 99999):05d}", "model": model, "status": status, "battery_level": battery})
    return {
        "network_id": _uuid4(ctx),
        "network_name": f"{ctx.rng.choice(IOT_SITES)} {ctx.rng.choice(IOT_NETWORK_KINDS)}",
        "protocol": ctx.rng.choice(["Zigbee", "LoRaWAN", "Wi-Fi", "BLE", "Thread", "Z-Wave"]),
        "created_at": created,
        "updated_at": updated,
        "gateway": {
            "gateway_id": f"GW-{ctx.rng.getrandbits(24):06X}",
            "firmware_version": f"{ctx.rng.randint(1, 5)}.{ctx.rng.randint(0, 12)}.{ctx.rng.randint(0, 30)}",
            "ip_address": ctx.fake.ipv4_private(),
        },
        "device_count": len(devices),
        "devices": devices,
    }


# --- medical_encounter ---------------------------------------------------------------------

# department -> (ICD-10 diagnoses, CPT procedures) that plausibly occur on that service.
DEPARTMENT_CASES: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "Cardiology": (
        [("I21.4", "NSTEMI myocardial infarction"), ("I50.9", "Heart failure, unspecified"), ("I48.91", "Atrial fibrillation"),
         ("I25.10", "Coronary artery disease"), ("I20.0", "Unstable angina")],
        [("93458", "Left heart catheterization"), ("93306", "Transthoracic echocardiogram"), ("92928", "Coronary stent placement"),
         ("93000", "Electrocardiogram, 12-lead")],
    ),
    "Pulmonology": (
        [("J18.9", "Pneumonia, unspecified organism"), ("J44.1", "COPD with acute exacerbation"), ("J96.01", "Acute respiratory failure with hypoxia"),
         ("I26.99", "Pulmonary embolism"), ("J45.901", "Asthma with acute exacerbation")],
        [("71046", "Chest X-ray, 2 views"), ("31624", "Bronchoscopy with lavage"), ("94640", "Nebulizer treatment"),
         ("71275", "CT angiography of chest")],
    ),
    "Orthopedics": (
        [("S72.001A", "Fracture of femoral neck"), ("M17.11", "Primary osteoarthritis, right knee"), ("S82.201A", "Fracture of tibial shaft"),
         ("M16.12", "Primary osteoarthritis, left hip"), ("S42.201A", "Fracture of upper humerus")],
        [("27447", "Total knee arthroplasty"), ("27236", "Hip fracture repair"), ("27130", "Total hip arthroplasty"),
         ("73562", "Knee X-ray, 3 views")],
    ),
    "Gastroenterology": (
        [("K35.80", "Acute appendicitis"), ("K85.90", "Acute pancreatitis"), ("K92.2", "Gastrointestinal hemorrhage"),
         ("K57.32", "Diverticulitis of large intestine"), ("K80.20", "Gallstones without obstruction")],
        [("43239", "Upper GI endoscopy with biopsy"), ("45378", "Diagnostic colonoscopy"), ("47562", "Laparoscopic cholecystectomy"),
         ("44970", "Laparoscopic appendectomy"), ("74177", "CT abdomen and pelvis with contrast")],
    ),
    "Neurology": (
        [("I63.9", "Cerebral infarction, unspecified"), ("G40.909", "Epilepsy, unspecified"), ("G45.9", "Transient ischemic attack"),
         ("R55", "Syncope and collapse"), ("G43.909", "Migraine, unspecified")],
        [("70450", "CT head without contrast"), ("70553", "MRI brain with and without contrast"), ("95816", "Electroencephalogram"),
         ("62270", "Lumbar puncture")],
    ),
    "Internal Medicine": (
        [("A41.9", "Sepsis, unspecified organism"), ("N39.0", "Urinary tract infection"), ("E11.65", "Type 2 diabetes with hyperglycemia"),
         ("N17.9", "Acute kidney failure"), ("E87.1", "Hyponatremia")],
        [("36556", "Central venous catheter insertion"), ("36430", "Blood transfusion"), ("76770", "Renal ultrasound"),
         ("87040", "Blood culture")],
    ),
}
COMORBIDITIES = [
    ("I10", "Essential hypertension"), ("E78.5", "Hyperlipidemia, unspecified"), ("E11.9", "Type 2 diabetes without complications"),
    ("F17.210", "Nicotine dependence, cigarettes"), ("E66.9", "Obesity, unspecified"), ("D64.9", "Anemia, unspecified"),
]


@builder(
    "medical_encounter",
    synonyms={
        "encounter_id": ["encounter ID", "visit number", "encounter reference"],
        "encounter_type": ["encounter type", "visit type", "admission type"],
        "department": ["department", "service", "clinical unit"],
        "attending_physician": ["attending physician", "attending", "treating doctor"],
        "admission_date": ["admitted on", "admission date", "date of admission"],
        "discharge_date": ["discharged on", "discharge date", "date of discharge"],
        "discharge_disposition": ["discharge disposition", "discharged to", "disposition"],
        "patient": ["patient", "patient details", "patient information"],
        "patient_id": ["patient ID", "MRN", "medical record number"],
        "full_name": ["patient name", "full name", "name"],
        "date_of_birth": ["date of birth", "DOB", "born"],
        "sex": ["sex", "gender", "sex at birth"],
        "diagnoses": ["diagnoses", "diagnosis list", "conditions"],
        "icd10_code": ["ICD-10 code", "diagnosis code", "ICD code"],
        "diagnosis_description": ["diagnosis", "condition", "diagnosis description"],
        "procedure_count": ["procedure count", "number of procedures", "procedures performed"],
        "procedures": ["procedures", "interventions", "procedure list"],
        "cpt_code": ["CPT code", "procedure code", "billing code"],
        "procedure_name": ["procedure", "procedure name", "intervention"],
    },
)
def medical_encounter(ctx: Ctx) -> dict[str, Any]:
    department = ctx.rng.choice(list(DEPARTMENT_CASES))
    dx_pool, px_pool = DEPARTMENT_CASES[department]
    n_dx = ctx.rng.randint(2, 3)
    dx = ctx.rng.sample(dx_pool, ctx.rng.randint(1, n_dx - 1))  # the reason for the stay, then comorbidities
    dx += ctx.rng.sample(COMORBIDITIES, n_dx - len(dx))
    px = ctx.rng.sample(px_pool, ctx.rng.randint(1, 3))
    encounter_type = ctx.rng.choice(["inpatient", "inpatient", "emergency", "observation", "day_surgery"])
    admitted = date_between(ctx)
    stay = {"inpatient": (1, 14), "emergency": (0, 2), "observation": (0, 2), "day_surgery": (0, 1)}[encounter_type]
    discharged = admitted + dt.timedelta(days=ctx.rng.randint(*stay))
    born = admitted - dt.timedelta(days=ctx.rng.randint(18 * 365, 95 * 365))
    sex = ctx.rng.choice(["female", "male"])
    first = ctx.fake.first_name_female() if sex == "female" else ctx.fake.first_name_male()
    return {
        "encounter_id": f"ENC-{ctx.rng.randint(0, 99_999_999):08d}",
        "encounter_type": encounter_type,
        "department": department,
        "attending_physician": f"Dr. {ctx.fake.first_name()} {ctx.fake.last_name()}",
        "admission_date": admitted.isoformat(),
        "discharge_date": discharged.isoformat(),
        "discharge_disposition": ctx.rng.choice(["home", "home", "home", "home_health", "skilled_nursing", "rehab_facility", "transferred"]),
        "patient": {
            "patient_id": f"MRN-{ctx.rng.randint(0, 9_999_999):07d}",
            "full_name": f"{first} {ctx.fake.last_name()}",
            "date_of_birth": born.isoformat(),
            "sex": sex,
        },
        "diagnoses": [{"icd10_code": code, "diagnosis_description": desc} for code, desc in dx],
        "procedure_count": len(px),
        "procedures": [{"cpt_code": code, "procedure_name": name} for code, name in px],
    }


# --- multi_party_transaction ---------------------------------------------------------------

# transaction type -> the roles of its parties, in order.
TRANSACTION_ROLES = {
    "direct_sale": ["buyer", "seller"],
    "brokered_sale": ["buyer", "seller", "broker"],
    "escrow_purchase": ["buyer", "seller", "escrow_agent"],
    "guaranteed_sale": ["buyer", "seller", "guarantor"],
}


@builder(
    "multi_party_transaction",
    synonyms={
        "transaction_id": ["transaction ID", "deal reference", "transaction UUID"],
        "transaction_type": ["transaction type", "deal type", "kind of transaction"],
        "currency": ["currency", "settlement currency", "currency code"],
        "issue_date": ["issued on", "issue date", "date issued"],
        "due_date": ["due date", "payment due", "settle by"],
        "participant_count": ["number of parties", "party count", "parties involved"],
        "participants": ["parties", "participants", "counterparties"],
        "participant_name": ["party", "party name", "participant name"],
        "role": ["role", "acting as", "capacity"],
        "items": ["items", "goods", "line items"],
        "description": ["item", "description", "goods description"],
        "quantity": ["quantity", "qty", "units"],
        "unit_price": ["unit price", "price each", "price per unit"],
        "subtotal": ["subtotal", "sum of items", "items subtotal"],
        "discount_percentage": ["discount (%)", "percent off", "discount rate in percent"],
        "tax": ["tax", "sales tax", "VAT amount"],
        "total_amount": ["total amount", "grand total", "amount payable"],
    },
)
def multi_party_transaction(ctx: Ctx) -> dict[str, Any]:
    transaction_type = ctx.rng.choice(list(TRANSACTION_ROLES))
    roles = TRANSACTION_ROLES[transaction_type]
    participants = [{"participant_name": _company(ctx), "role": role} for role in roles]
    items = line_items(ctx, 2, 3, name_key="description")
    discount = ctx.rng.choice([0, 0, 5, 10, 12.5, 15])
    totals = finance_totals(ctx, items, discount_percentage=discount, tax_rate=ctx.rng.choice([0.0, 0.05, 0.07, 0.0825, 0.2]))
    issued = date_between(ctx)
    due = issued + dt.timedelta(days=ctx.rng.choice([7, 14, 30, 45, 60]))
    return {
        "transaction_id": _uuid4(ctx),
        "transaction_type": transaction_type,
        "currency": ctx.rng.choice(["USD", "EUR", "GBP", "CAD", "AUD"]),
        "issue_date": issued.isoformat(),
        "due_date": due.isoformat(),
        "participant_count": len(participants),
        "participants": participants,
        "items": items,
        "subtotal": totals["subtotal"],
        "discount_percentage": discount,
        "tax": totals["tax"],
        "total_amount": totals["total"],
    }


# --- nested_organization -------------------------------------------------------------------

DEPARTMENT_TEAMS = {
    "Engineering": ["Platform", "Mobile", "Data Infrastructure", "QA Automation", "Site Reliability"],
    "Sales": ["Enterprise Accounts", "Inside Sales", "Partnerships", "Sales Operations"],
    "Marketing": ["Brand", "Growth", "Content", "Product Marketing"],
    "Finance": ["Accounts Payable", "FP&A", "Payroll", "Tax and Treasury"],
    "Human Resources": ["Recruiting", "People Operations", "Learning and Development"],
    "Operations": ["Facilities", "Procurement", "Supply Planning", "Fleet"],
    "Customer Support": ["Tier 1 Support", "Escalations", "Onboarding", "Support Tooling"],
    "Legal": ["Contracts", "Compliance", "Privacy"],
}


@builder(
    "nested_organization",
    synonyms={
        "organization_id": ["organization ID", "org ID", "company reference"],
        "organization_name": ["organization", "company name", "org name"],
        "industry": ["industry", "sector", "line of business"],
        "headquarters_city": ["headquarters", "HQ city", "head office location"],
        "created_at": ["created at", "record created", "profile created"],
        "updated_at": ["updated at", "last updated", "last modified"],
        "department_count": ["number of departments", "department count", "departments total"],
        "departments": ["departments", "divisions", "business units"],
        "department_name": ["department", "division", "department name"],
        "team_count": ["team count", "number of teams", "teams in department"],
        "teams": ["teams", "squads", "groups"],
        "team_name": ["team", "team name", "squad"],
        "headcount": ["headcount", "staff", "number of employees"],
    },
)
def nested_organization(ctx: Ctx) -> dict[str, Any]:
    created, updated = _timestamps(ctx, 2012, 2024, 700)
    departments = []
    names = ctx.rng.sample(list(DEPARTMENT_TEAMS), ctx.rng.randint(2, 3))
    spare = 2 if len(names) == 3 else 3  # extra teams beyond one each: at most 5 teams, so the text stays short
    for name in names:
        n_teams = 1 + (spare > 0 and ctx.rng.random() < 0.6)
        spare -= n_teams - 1
        teams = [{"team_name": t, "headcount": ctx.rng.randint(2, 45)} for t in ctx.rng.sample(DEPARTMENT_TEAMS[name], n_teams)]
        departments.append({"department_name": name, "team_count": len(teams), "teams": teams})
    return {
        "organization_id": f"ORG-{ctx.rng.randint(0, 99999):05d}",
        "organization_name": _company(ctx),
        "industry": ctx.rng.choice(["software", "healthcare", "manufacturing", "retail", "logistics", "financial_services", "education", "energy"]),
        "headquarters_city": _short(ctx.fake.city(), "Springfield"),
        "created_at": created,
        "updated_at": updated,
        "department_count": len(departments),
        "departments": departments,
    }
