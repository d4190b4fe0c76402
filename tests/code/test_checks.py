"""The row checks on hand-worked inputs: arithmetic, grounding, dates, parsing, duplicates."""

from __future__ import annotations

import copy
import json

from stages.tasks.edgejson.checks import (
    SUITES,
    check_arithmetic,
    check_dates_in_order,
    check_grounded,
    normalise_prompt,
    parse_output,
    row_failures,
    set_failures,
)

# An order in external naming: `price` (not unit_price), `line_total`, `total_amount`, `shipping`.
#   line 1: 3 x 19.99 = 59.97
#   line 2: 2 x  5.50 = 11.00
#   items sum         = 70.97
#   less 10 %         = 70.97 * 0.90 = 63.873
#   plus shipping     = 63.873 + 4.99 = 68.863 -> 68.86 (to the cent)
GOOD_ORDER = {
    "order_id": "A-1",
    "items": [
        {"name": "Desk Lamp", "price": 19.99, "quantity": 3, "line_total": 59.97},
        {"name": "HDMI Cable", "price": 5.50, "quantity": 2, "line_total": 11.00},
    ],
    "subtotal": 70.97,
    "discount_percentage": 10,
    "shipping": 4.99,
    "total_amount": 68.86,
}


def test_arithmetic_accepts_a_correct_order_in_external_naming():
    assert check_arithmetic(GOOD_ORDER) == []


def test_arithmetic_catches_a_total_that_ignores_the_discount():
    bad = copy.deepcopy(GOOD_ORDER)
    bad["total_amount"] = 75.96  # 70.97 + 4.99: the 10 % discount left out (off by 7.10)
    problems = check_arithmetic(bad)
    assert len(problems) == 1 and "total 75.96" in problems[0]


def test_arithmetic_catches_a_wrong_line_total_and_subtotal():
    bad = copy.deepcopy(GOOD_ORDER)
    bad["items"][0]["line_total"] = 57.97  # 3 x 19.99 is 59.97, not 57.97
    bad["subtotal"] = 65.47  # the v2 defect: last line (11.00) dropped, and 0.50 off besides
    problems = check_arithmetic(bad)
    assert any("items[0] line total 57.97" in p for p in problems)
    assert any("subtotal 65.47" in p for p in problems)
    assert len(problems) == 2  # total_amount is still right against the items


def test_arithmetic_nested_orders_are_checked_too():
    wrapped = {"batch": {"orders": [copy.deepcopy(GOOD_ORDER)]}}
    assert check_arithmetic(wrapped) == []
    wrapped["batch"]["orders"][0]["total_amount"] = 70.00
    assert len(check_arithmetic(wrapped)) == 1


# A schema that names its own fields:
#   4 x 2.50 = 10.00, 1 x 10.00 = 10.00 -> net 20.00; vat 4.00 -> gross 24.00
ANNOTATED_SCHEMA = {
    "type": "object",
    "x-arithmetic": {"items": "entries", "quantity": "units", "price": "cost", "subtotal": "net", "total": "gross", "tax": "vat"},
}
ANNOTATED_GOOD = {"entries": [{"units": 4, "cost": 2.50}, {"units": 1, "cost": 10.00}], "net": 20.00, "vat": 4.00, "gross": 24.00}


def test_x_arithmetic_annotation_names_custom_fields():
    assert check_arithmetic(ANNOTATED_GOOD, ANNOTATED_SCHEMA) == []
    bad = {**ANNOTATED_GOOD, "gross": 30.00}  # 20.00 + 4.00 is 24.00
    problems = check_arithmetic(bad, ANNOTATED_SCHEMA)
    assert len(problems) == 1 and "total 30.0" in problems[0]
    bad_net = {**ANNOTATED_GOOD, "net": 21.00, "gross": 25.00}
    assert any("subtotal 21.0" in p for p in check_arithmetic(bad_net, ANNOTATED_SCHEMA))
    # Without the annotation the custom names mean nothing, so nothing is checked.
    assert check_arithmetic(bad) == []


def test_count_fields_must_match_list_lengths():
    assert check_arithmetic({"attendees": ["a", "b", "c"], "attendee_count": 3}) == []
    assert check_arithmetic({"boxes": ["a"], "box_count": 1}) == []
    problems = check_arithmetic({"attendees": ["a", "b", "c"], "attendee_count": 2})
    assert problems == ["attendee_count=2 but attendees has 3"]
    assert check_arithmetic({"team": {"member_count": 1, "members": []}}) == ["member_count=1 but members has 0"]


def test_grounding_normalises_numbers():
    assert check_grounded({"amount": 1234.5}, "Amount due: 1,234.50 EUR") == []
    assert check_grounded({"qty": 12000}, "we shipped 12,000 units") == []
    problems = check_grounded({"amount": 1234.51}, "Amount due: 1,234.50 EUR")
    assert len(problems) == 1 and problems[0].startswith("amount=1234.51")


def test_grounding_normalises_dates():
    iso = {"when": "2024-03-05"}
    assert check_grounded(iso, "The meeting is on March 5, 2024 at noon.") == []
    assert check_grounded(iso, "The meeting is on 5 Mar 2024 at noon.") == []
    assert check_grounded(iso, "the meeting: 2024-03-05") == []
    assert len(check_grounded({"when": "2024-03-06"}, "The meeting is on March 5, 2024.")) == 1


def test_grounding_fails_for_values_not_in_the_text():
    text = "Order A-1 for Alice Smith, status: inactive."
    assert check_grounded({"id": "A-1", "customer": "alice  smith"}, text) == []
    problems = check_grounded({"id": "A-1", "customer": "Bob Jones", "lines": [{"sku": "X9"}]}, text)
    assert problems == ["customer='Bob Jones' not in text", "lines[0].sku='X9' not in text"]
    assert check_grounded({"active": False}, text) == []
    assert len(check_grounded({"active": True}, text)) == 1  # "inactive" does not ground True


def test_dates_in_order_catches_end_before_start():
    assert check_dates_in_order({"start_date": "2024-03-01", "end_date": "2024-03-05"}) == []
    problems = check_dates_in_order({"start_date": "2024-03-05", "end_date": "2024-03-01"})
    assert problems == ["end_date 2024-03-01 is before start_date 2024-03-05"]
    nested = {"stay": {"check_in": "2024-03-05T10:00:00Z", "check_out": "2024-03-05T09:00:00Z"}}
    assert len(check_dates_in_order(nested)) == 1
    # Offsets count: 10:00+02:00 is 08:00Z, before 09:00Z.
    assert check_dates_in_order({"start": "2024-03-05T10:00:00+02:00", "end": "2024-03-05T09:00:00Z"}) == []


def test_parse_output_accepts_a_json_string_and_rejects_a_list():
    assert parse_output('{"a": 1}') == ({"a": 1}, None)
    assert parse_output({"a": 1}) == ({"a": 1}, None)
    value, err = parse_output([{"a": 1}])
    assert value is None and "list" in err
    value, err = parse_output("[1, 2]")
    assert value is None and "list" in err
    value, err = parse_output("{broken")
    assert value is None and "does not parse" in err


def test_row_failures_of_an_unparseable_row_and_the_v2_suite():
    row = {"id": "r1", "schema_id": "nope", "prompt": "short", "expected_output": "[1]"}
    fails = row_failures(row, None, (10, 100), SUITES["full"])
    assert set(fails) == {"parses", "schema_valid", "grounded", "arithmetic", "dates_in_order", "prompt_length", "clean_labels"}
    good_text = "order A-1 for Desk Lamp and HDMI Cable: " + json.dumps(GOOD_ORDER)
    bad = copy.deepcopy(GOOD_ORDER)
    bad["total_amount"] = 75.96
    row = {"id": "r2", "schema_id": "nope", "prompt": good_text + " 75.96", "expected_output": bad}
    assert "arithmetic" in row_failures(row, None, (0, 10_000), ("arithmetic",))
    assert "arithmetic" not in row_failures(row, None, (0, 10_000), SUITES["v2"])


def test_set_failures_flags_later_duplicates_of_prompt_and_id():
    rows = [
        {"id": "a", "prompt": "Hello, World!"},
        {"id": "b", "prompt": "  hello   WORLD "},
        {"id": "a", "prompt": "Something else"},
        {"id": "c", "prompt": "Something different"},
    ]
    fails = set_failures(rows, SUITES["full"])
    assert fails[0] == {} and fails[3] == {}
    assert set(fails[1]) == {"unique_prompt"} and "a" in fails[1]["unique_prompt"]
    assert set(fails[2]) == {"unique_id"}
    assert set_failures(rows, ("unique_id",))[1] == {}
    assert normalise_prompt("Hello, World!") == normalise_prompt("hello world") == "hello world"


# ---- Discounts on the line items themselves (each item discounted, then summed) ----
# Per-item percentage:
#   line 1: 2 x 24.99 = 49.98, less 10 %  = 44.982 -> 44.98
#   line 2: 1 x 15.00 = 15.00, less 20 %  = 12.00
#   line 3: 3 x  3.33 =  9.99, less 15 %  =  8.4915 -> 8.49
#   subtotal = 44.98 + 12.00 + 8.49       = 65.47
#   tax 8 % of 65.47 = 5.2376             ->  5.24
#   total = 65.47 + 5.24                  = 70.71
ITEM_PERCENT = {
    "items": [
        {"sku": "A", "quantity": 2, "unit_price": 24.99, "discount_percentage": 10, "line_total": 44.98},
        {"sku": "B", "quantity": 1, "unit_price": 15.00, "discount_percentage": 20, "line_total": 12.00},
        {"sku": "C", "quantity": 3, "unit_price": 3.33, "discount_percent": 15, "line_total": 8.49},
    ],
    "subtotal": 65.47,
    "tax": 5.24,
    "total": 70.71,
}


def test_per_item_discount_percentage_is_applied_before_summing():
    assert check_arithmetic(ITEM_PERCENT) == []
    # Before the fix the items' discounts were ignored: 74.97 (49.98 + 15.00 + 9.99) was expected.


def test_per_item_discount_errors_are_still_flagged():
    bad = copy.deepcopy(ITEM_PERCENT)
    bad["items"][0]["line_total"] = 46.98  # 44.98 after its 10 % discount, 49.98 before: neither
    assert check_arithmetic(bad) == ["items[0] line total 46.98 != quantity*price 49.98 less its discount = 44.98"]
    bad = copy.deepcopy(ITEM_PERCENT)
    bad["subtotal"], bad["total"] = 70.47, 75.71  # 5.00 too much in both
    problems = check_arithmetic(bad)
    assert problems == ["subtotal 70.47 != sum of the discounted lines 65.47 over items", "total 75.71 != derived 70.71 over items"]
    bad = copy.deepcopy(ITEM_PERCENT)
    bad["total"] = 80.21  # 74.97 + 5.24: the items' discounts left out of the total
    assert check_arithmetic(bad) == ["total 80.21 != derived 70.71 over items"]


def test_a_subtotal_before_the_item_discounts_is_accepted_but_the_total_must_include_them():
    # Some invoices state the subtotal before line discounts (74.97) and the total after them.
    gross = {**copy.deepcopy(ITEM_PERCENT), "subtotal": 74.97}
    assert check_arithmetic(gross) == []
    # A discounted item whose line total is shown before its discount (49.98) is accepted too.
    shown_gross = copy.deepcopy(ITEM_PERCENT)
    shown_gross["items"][0]["line_total"] = 49.98
    assert check_arithmetic(shown_gross) == []


# Per-item amount:
#   line 1: 4 x 12.50 = 50.00, less 5.00 = 45.00
#   line 2: 2 x  7.25 = 14.50 (no discount)
#   subtotal = 59.50; shipping 4.99 -> total 64.49
ITEM_AMOUNT = {
    "line_items": [
        {"quantity": 4, "price": 12.50, "discount_amount": 5.00, "amount": 45.00},
        {"quantity": 2, "price": 7.25, "amount": 14.50},
    ],
    "subtotal": 59.50,
    "shipping_cost": 4.99,
    "grand_total": 64.49,
}


def test_per_item_discount_amount():
    assert check_arithmetic(ITEM_AMOUNT) == []
    bad = copy.deepcopy(ITEM_AMOUNT)
    bad["line_items"][0]["amount"] = 40.00  # the 5.00 taken off twice
    assert check_arithmetic(bad) == ["line_items[0] line total 40.0 != quantity*price 50.0 less its discount = 45.0"]
    bad = copy.deepcopy(ITEM_AMOUNT)
    bad["grand_total"] = 69.49  # 64.50 + 4.99: the 5.00 item discount left out
    assert check_arithmetic(bad) == ["total 69.49 != derived 64.49 over line_items"]


# Order-level discount only, rounding at each step:
#   3 x 19.99 = 59.97, 1 x 0.99 = 0.99 -> 60.96
#   less 12.5 % = 53.34 (exactly); tax 7 % of 53.34 = 3.7338 -> 3.73; shipping 4.99
#   total = 53.34 + 3.73 + 4.99 = 62.06
ORDER_LEVEL = {
    "items": [{"quantity": 3, "unit_price": 19.99}, {"quantity": 1, "unit_price": 0.99}],
    "subtotal": 60.96,
    "discount_percentage": 12.5,
    "tax_amount": 3.73,
    "shipping": 4.99,
    "total": 62.06,
}


def test_order_level_discount_with_rounding():
    assert check_arithmetic(ORDER_LEVEL) == []
    assert check_arithmetic({**ORDER_LEVEL, "total": 62.16}) == ["total 62.16 != derived 62.06 over items"]  # 0.10 off
    assert check_arithmetic({**ORDER_LEVEL, "total": 69.68}) == ["total 69.68 != derived 62.06 over items"]  # discount ignored


# Both, item discount first, then the order's:
#   line 1: 2 x 24.99 = 49.98, less 10 % = 44.982 -> 44.98
#   line 2: 1 x 15.00 = 15.00
#   subtotal = 59.98; less 5 % = 56.981 -> 56.98; shipping 5.00 -> total 61.98
BOTH = {
    "items": [
        {"quantity": 2, "unit_price": 24.99, "discount_percentage": 10, "line_total": 44.98},
        {"quantity": 1, "unit_price": 15.00, "line_total": 15.00},
    ],
    "subtotal": 59.98,
    "discount_percentage": 5,
    "shipping": 5.00,
    "total": 61.98,
}


def test_item_and_order_discounts_together():
    assert check_arithmetic(BOTH) == []
    # Only the order's 5 % applied: 64.98 x 0.95 = 61.731 -> 61.73, + 5.00 = 66.73.
    assert check_arithmetic({**BOTH, "total": 66.73}) == ["total 66.73 != derived 61.98 over items"]
    # Only the items' 10 %: 59.98 + 5.00 = 64.98.
    assert check_arithmetic({**BOTH, "total": 64.98}) == ["total 64.98 != derived 61.98 over items"]


# Rounding at each step, or only at the end, both pass; a cent-level error beyond that does not.
#   3 x 3.33 = 9.99 less 15 % = 8.4915 -> 8.49
#   7 x 1.15 = 8.05 less 15 % = 6.8425 -> 6.84
#   5 x 2.45 = 12.25 less 15 % = 10.4125 -> 10.41
#   lines rounded, then summed: 25.74; summed, then rounded: 25.7465 -> 25.75
#   tax 10 %: 2.574 -> 2.57 (either way); total 25.74 + 2.57 = 28.31, or 25.7465 + 2.57465 = 28.32115 -> 28.32
ROUNDING = {
    "items": [
        {"quantity": 3, "unit_price": 3.33, "discount_percentage": 15, "line_total": 8.49},
        {"quantity": 7, "unit_price": 1.15, "discount_percentage": 15, "line_total": 6.84},
        {"quantity": 5, "unit_price": 2.45, "discount_percentage": 15, "line_total": 10.41},
    ],
    "subtotal": 25.74,
    "tax": 2.57,
    "total": 28.31,
}


def test_rounding_at_each_step_or_at_the_end_both_pass():
    assert check_arithmetic(ROUNDING) == []
    assert check_arithmetic({**ROUNDING, "subtotal": 25.75, "total": 28.32}) == []
    half_up = copy.deepcopy(ROUNDING)
    half_up["items"][0]["line_total"] = 8.50  # 8.4915 rounded up at two steps: within rounding
    assert check_arithmetic(half_up) == []


def test_errors_beyond_rounding_are_flagged():
    assert check_arithmetic({**ROUNDING, "subtotal": 25.80}) == ["subtotal 25.8 != sum of the discounted lines 25.75 over items"]
    assert check_arithmetic({**ROUNDING, "total": 28.38}) == ["total 28.38 != derived 28.32 over items"]
    off = copy.deepcopy(ROUNDING)
    off["items"][1]["line_total"] = 6.87  # 6.8425 is 6.84
    assert check_arithmetic(off) == ["items[1] line total 6.87 != quantity*price 8.05 less its discount = 6.84"]


def test_deeply_nested_output_is_a_row_failure_not_a_crash():
    row = {"id": "r", "schema_id": "nope", "prompt": "text", "expected_output": '{"a": ' + "[" * 5000 + "1" + "]" * 5000 + "}"}
    # json.loads of the string gives up at Python's recursion limit: "does not parse", on every check
    fails = row_failures(row, None, (0, 100), SUITES["full"])
    assert fails["parses"].startswith("expected_output does not parse")


def test_clean_labels_flags_a_doubled_label_word_but_not_a_doubled_value():
    from stages.tasks.edgejson.checks import check_clean_labels

    out = {"merchant": {"name": "Acme"}, "note": "bye bye now"}
    assert check_clean_labels(out, "Extract.\n\nsam: merchant name is Acme\nnote: bye bye now") == []
    assert check_clean_labels(out, "Extract.\n\nsam: merchant merchant name is Acme") == ["doubled word in a label: 'merchant merchant'"]
    assert check_clean_labels(out, "Extract.\n\nINFO [x] gateway.gateway_serial=GW-1") != []
    assert check_clean_labels(out, "Extract.\n\nHere are the order details details you asked for:") != []
