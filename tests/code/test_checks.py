"""The row checks on hand-worked inputs: arithmetic, grounding, dates, parsing, duplicates."""

from __future__ import annotations

import copy
import json

from stages.checks import (
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
    assert set(fails) == {"parses", "schema_valid", "grounded", "arithmetic", "dates_in_order", "prompt_length"}
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
