"""EdgeFuncCall's request templates: per tool of the catalogue (tools/), a few sentences in two
forms, and the words the generator (stages/tasks/funccall/generate.py) fills them with.

A template is one request for one call, with slots:

- `{param}` is the surface text of a parameter's value: a string as is, a number or a date or a
  time or a duration in one of several spoken forms, a boolean or an enum as a phrase of
  `phrases` ("turn off", "by bike"); an array's items are listed ("milk, eggs and bread");
  `{param.key}` is a key of an object parameter.
- `[ ... {param} ...]` is an optional parameter's segment: kept when the row mentions the
  parameter (then its value is not the default), dropped otherwise. `[ ... {param} ...| else]`
  keeps `else` instead ("20[ {currency}| dollars]": "20 euros" or "20 dollars").

Every required parameter has a slot outside any segment in every template of its tool (a request
must say what the call needs); generate.py checks this against the catalogue. Imperative
templates start with a verb and have no final punctuation, so the generator can wrap them
("I was wondering if you could ..."); question templates end with "?".

`values` names the value maker of a parameter (generate.py's VALUES) where its type alone would
not give a plausible value; `phrases` gives a boolean's or enum's surface phrases per value, each
one the grounding check (stages/tasks/funccall/checks.py) normalises back to that value; `when`
lets an optional parameter be mentioned only beside another's value (brightness only for lights
turned on).

Each form of each tool has at least two templates, so both splits get some: the split is drawn
per template, not per row (generate.py: `split_templates`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolTemplates:
    imperative: tuple[str, ...]
    question: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)  # param (or "param.key") -> VALUES key
    phrases: dict[str, dict[Any, tuple[str, ...]]] = field(default_factory=dict)  # bool/enum param -> value -> phrases
    when: dict[str, tuple[str, Any]] = field(default_factory=dict)  # optional param -> (param, value) it needs


T = ToolTemplates

UNITS = {"celsius": ("celsius", "degrees celsius"), "fahrenheit": ("fahrenheit", "degrees fahrenheit")}
TRAVEL = {"driving": ("by car",), "walking": ("on foot",), "transit": ("by public transport", "by transit", "by bus"), "cycling": ("by bike",)}
CURRENCY = {"USD": ("dollars",), "EUR": ("euros", "EUR"), "GBP": ("pounds", "GBP")}

TEMPLATES: dict[str, ToolTemplates] = {
    # ---- weather
    "get_weather": T(
        (
            "Tell me the current weather in {city}[ in {units}]",
            "Check the weather in {city} right now[, in {units}]",
            "Give me the current conditions for {city}[ in {units}]",
        ),
        ("What's the weather like in {city} right now[ in {units}]?", "How is the weather in {city} at the moment?", "Is it raining in {city} right now?"),
        values={"city": "city"},
        phrases={"units": UNITS},
    ),
    "get_forecast": T(
        (
            "Show me the {days}-day forecast for {city}[ in {units}]",
            "Give me the weather forecast for {city} for the next {days} days[ in {units}]",
            "Forecast the weather in {city} over the next {days} days",
        ),
        (
            "What will the weather be in {city} over the next {days} days?",
            "Can you get the {days}-day forecast for {city}[ in {units}]?",
            "What's the forecast for {city} for the coming {days} days[ in {units}]?",
        ),
        values={"city": "city", "days": "days"},
        phrases={"units": UNITS},
    ),
    "get_air_quality": T(
        (
            "Check the air quality in {city}[ {include_pollen}]",
            "Show me the air quality index for {city}[, {include_pollen}]",
            "Get the current air quality in {city}[ {include_pollen}]",
        ),
        (
            "How clean is the air in {city} today[ {include_pollen}]?",
            "What's the air quality like in {city}?",
            "Is the air quality okay in {city}[ {include_pollen}]?",
        ),
        values={"city": "city"},
        phrases={"include_pollen": {True: ("with pollen levels", "including pollen", "and pollen too")}},
    ),
    # ---- timers_alarms
    "set_timer": T(
        (
            "Set a timer for {duration_seconds}[ called {label}]",
            "Start a timer for {duration_seconds}[ and label it {label}]",
            "Count down {duration_seconds}[ for the {label}]",
        ),
        (
            "Can you set a timer for {duration_seconds}[ called {label}]?",
            "Could you start a countdown of {duration_seconds}[ for the {label}]?",
            "Can you time {duration_seconds} for me[ and call it {label}]?",
        ),
        values={"duration_seconds": "timer_seconds", "label": "timer_label"},
    ),
    "set_alarm": T(
        ("Set an alarm for {time}[ {repeat_daily}][ called {label}]", "Wake me up at {time}[ {repeat_daily}]", "Set my alarm to {time}[ and label it {label}]"),
        (
            "Can you set an alarm for {time}[ {repeat_daily}]?",
            "Could you wake me up at {time}[ {repeat_daily}]?",
            "Can you set an alarm at {time}[ named {label}]?",
        ),
        values={"label": "alarm_label"},
        phrases={"repeat_daily": {True: ("every day", "daily")}},
    ),
    "cancel_alarm": T(
        ("Cancel my {time} alarm", "Switch off the alarm for {time} for good", "Delete the alarm set for {time}"),
        ("Can you cancel the alarm for {time}?", "Could you remove my {time} alarm?", "Can you get rid of the alarm at {time}?"),
    ),
    "snooze_alarm": T(
        ("Snooze the alarm[ for {minutes}]", "Hit snooze[ for {minutes}]", "Snooze my alarm[ by {minutes}]"),
        ("Can you snooze the alarm[ for {minutes}]?", "Could you snooze it[ for {minutes}]?", "Can you snooze my alarm[ by {minutes}]?"),
        values={"minutes": "snooze_minutes"},
    ),
    # ---- messaging
    "send_message": T(
        ("Text {recipient} saying {text}[ and mark it {urgent}]", "Send {recipient} a text that says {text}", "Message {recipient} to say {text}[, {urgent}]"),
        (
            "Can you text {recipient} that {text}?",
            "Could you send[ an {urgent}| a] text to {recipient} saying {text}?",
            "Can you message {recipient} to say {text}?",
        ),
        values={"recipient": "first_name", "text": "message"},
        phrases={"urgent": {True: ("urgent",)}},
    ),
    "send_email": T(
        (
            "Email {to} about the {subject}[ saying {body}]",
            "Send an email to {to} with the subject {subject}[ and the body {body}]",
            "Write an email to {to} titled {subject}",
        ),
        (
            "Can you email {to} about the {subject}?",
            "Could you send {to} an email about the {subject}[ saying {body}]?",
            "Can you write to {to} by email, subject {subject}?",
        ),
        values={"to": "first_name", "subject": "email_subject", "body": "email_body"},
    ),
    "read_messages": T(
        (
            "Read my[ {unread_only}] messages[ from {sender}]",
            "Read me[ the last {count}| my recent] texts[ from {sender}]",
            "Show my[ {unread_only}] text messages[ from {sender}]",
        ),
        (
            "Do I have any[ {unread_only}] messages[ from {sender}]?",
            "Can you read my[ {count}] latest messages[ from {sender}]?",
            "What did[ {sender}| people] text me recently?",
        ),
        values={"sender": "first_name", "count": "count"},
        phrases={"unread_only": {True: ("unread",)}},
    ),
    "call_contact": T(
        ("Call {name}[ on {video}]", "Start a[ {video}] call with {name}", "Dial {name} for me"),
        ("Can you call {name}[ on {video}]?", "Could you ring {name} for me?", "Can you start a[ {video}] call with {name}?"),
        values={"name": "full_name"},
        phrases={"video": {True: ("video",)}},
    ),
    # ---- calendar
    "create_event": T(
        (
            "Add {title} to my calendar on {date} at {start_time}[ for {duration_minutes}][ with {attendees}]",
            "Schedule {title} for {date} at {start_time}[ with {attendees}]",
            "Put {title} on the calendar for {date}, starting at {start_time}[, lasting {duration_minutes}]",
        ),
        (
            "Can you schedule {title} on {date} at {start_time}[ for {duration_minutes}]?",
            "Could you add {title} to my calendar for {date} at {start_time}[ with {attendees}]?",
            "Can you book {title} on {date} at {start_time}[, {duration_minutes} long][ and invite {attendees}]?",
        ),
        values={"title": "event_title", "duration_minutes": "event_minutes", "attendees": "first_name"},
    ),
    "list_events": T(
        ("Show my calendar for {date}", "List my events on {date}", "Read out my schedule for {date}"),
        ("What's on my calendar on {date}?", "Do I have anything scheduled for {date}?", "What meetings do I have on {date}?"),
    ),
    "delete_event": T(
        ("Delete {title} on {date} from my calendar", "Cancel the {title} on {date}", "Remove {title} from my calendar on {date}"),
        ("Can you delete {title} on {date}?", "Could you remove the {title} on {date} from my calendar?", "Can you cancel my {title} on {date}?"),
        values={"title": "event_title"},
    ),
    "reschedule_event": T(
        ("Move {title} to {new_date} at {new_time}", "Reschedule the {title} for {new_date} at {new_time}", "Push {title} to {new_date}, {new_time}"),
        (
            "Can you move my {title} to {new_date} at {new_time}?",
            "Could you reschedule {title} to {new_date} at {new_time}?",
            "Can you shift the {title} to {new_time} on {new_date}?",
        ),
        values={"title": "event_title"},
    ),
    # ---- smart_home
    "set_lights": T(
        ("{on} the lights in the {room}[ at {brightness} percent]", "{on} the {room} lights[ and set them to {brightness}%]", "Please {on} the {room} lights"),
        ("Can you {on} the lights in the {room}[ to {brightness} percent]?", "Could you {on} the {room} lights?", "Would you {on} the lights in the {room}?"),
        values={"room": "room", "brightness": "brightness"},
        phrases={"on": {True: ("turn on", "switch on"), False: ("turn off", "switch off")}},
        when={"brightness": ("on", True)},
    ),
    "set_thermostat": T(
        (
            "Set the thermostat to {temperature} degrees[ from {schedule.start_time} to {schedule.end_time}]",
            "Heat the house to {temperature} degrees[ between {schedule.start_time} and {schedule.end_time}]",
            "Change the temperature to {temperature}[ from {schedule.start_time} until {schedule.end_time}]",
        ),
        (
            "Can you set the thermostat to {temperature} degrees[ from {schedule.start_time} to {schedule.end_time}]?",
            "Could you make it {temperature} degrees in here?",
            "Can you change the heating to {temperature} degrees[ between {schedule.start_time} and {schedule.end_time}]?",
        ),
        values={"temperature": "temperature"},
    ),
    "lock_door": T(
        ("{locked} the {door} door", "Please {locked} the {door} door", "Make sure you {locked} the {door} door"),
        ("Can you {locked} the {door} door?", "Could you {locked} the {door} door for me?", "Would you {locked} the {door} door?"),
        phrases={"locked": {True: ("lock",), False: ("unlock",)}},
    ),
    "start_vacuum": T(
        ("Vacuum the {rooms}[ in {mode}]", "Start the robot vacuum in the {rooms}[ in {mode}]", "Clean the floors in the {rooms}[ in {mode}]"),
        ("Can you vacuum the {rooms}[ in {mode}]?", "Could you run the vacuum in the {rooms}?", "Can the robot clean the {rooms}[ in {mode}]?"),
        values={"rooms": "room"},
        phrases={"mode": {"quiet": ("quiet mode",), "turbo": ("turbo mode",), "standard": ("standard mode",)}},
    ),
    # ---- navigation
    "get_directions": T(
        (
            "Get directions from {origin} to {destination}[ {mode}][ {avoid_tolls}]",
            "Navigate from {origin} to {destination}[ {mode}]",
            "Route me from {origin} to {destination}[, {avoid_tolls}]",
        ),
        (
            "How do I get from {origin} to {destination}[ {mode}]?",
            "What's the best route from {origin} to {destination}[ {avoid_tolls}]?",
            "Can you find a route from {origin} to {destination}[ {mode}]?",
        ),
        values={"origin": "place", "destination": "place"},
        phrases={"mode": TRAVEL, "avoid_tolls": {True: ("avoiding tolls",)}},
    ),
    "get_eta": T(
        (
            "Tell me how long it takes to get to {destination}[ {mode}]",
            "Estimate my travel time to {destination}[ {mode}]",
            "Give me the ETA to {destination}[ {mode}]",
        ),
        (
            "How long will it take me to reach {destination}[ {mode}]?",
            "When will I get to {destination}[ {mode}] if I leave now?",
            "What's my ETA to {destination}[ {mode}]?",
        ),
        values={"destination": "place"},
        phrases={"mode": TRAVEL},
    ),
    "find_nearby": T(
        (
            "Find {category} near {near}[ within {radius_km} km]",
            "Show me {category} around {near}[ within {radius_km} kilometers]",
            "Look for {category} close to {near}",
        ),
        (
            "Are there any {category} near {near}[ within {radius_km} km]?",
            "Where can I find {category} around {near}?",
            "What {category} are close to {near}[ within {radius_km} km]?",
        ),
        values={"near": "place", "radius_km": "radius"},
        phrases={
            "category": {
                "restaurant": ("restaurants",),
                "cafe": ("cafes", "coffee shops"),
                "pharmacy": ("pharmacies",),
                "gas_station": ("gas stations", "petrol stations"),
                "parking": ("parking spots",),
            }
        },
    ),
    "share_location": T(
        (
            "Share my location with {contact} for {duration_minutes}",
            "Send {contact} my live location for the next {duration_minutes}",
            "Let {contact} see where I am for {duration_minutes}",
        ),
        (
            "Can you share my location with {contact} for {duration_minutes}?",
            "Could you let {contact} track me for {duration_minutes}?",
            "Can {contact} see my location for the next {duration_minutes}?",
        ),
        values={"contact": "first_name", "duration_minutes": "share_minutes"},
    ),
    # ---- payments
    "send_money": T(
        (
            "Send {recipient} {amount}[ {currency}| dollars][ for {note}]",
            "Pay {recipient} {amount}[ {currency}| dollars][ for {note}]",
            "Transfer {amount}[ {currency}| dollars] to {recipient}[ for {note}]",
        ),
        (
            "Can you send {amount}[ {currency}| dollars] to {recipient}[ for {note}]?",
            "Could you pay {recipient} {amount}[ {currency}| dollars]?",
            "Can you transfer {amount}[ {currency}| dollars] to {recipient}?",
        ),
        values={"recipient": "first_name", "amount": "amount", "note": "payment_note"},
        phrases={"currency": CURRENCY},
    ),
    "request_money": T(
        (
            "Request {amount}[ {currency}| dollars] from {payer}",
            "Ask {payer} to pay me {amount}[ {currency}| dollars]",
            "Ask {payer} for {amount}[ {currency}| dollars]",
        ),
        (
            "Can you request {amount}[ {currency}| dollars] from {payer}?",
            "Could you ask {payer} to send me {amount}[ {currency}| dollars]?",
            "Can you send {payer} a payment request for {amount}[ {currency}| dollars]?",
        ),
        values={"payer": "first_name", "amount": "amount"},
        phrases={"currency": CURRENCY},
    ),
    "pay_bill": T(
        (
            "Pay ${amount} to {biller} on {date}",
            "Pay my {biller} bill, {amount} dollars, on {date}",
            "Schedule a payment of {amount} dollars to {biller} for {date}",
        ),
        (
            "Can you pay {biller} ${amount} on {date}?",
            "Could you pay my {biller} bill of {amount} dollars on {date}?",
            "Can you schedule the {biller} bill, {amount} dollars, for {date}?",
        ),
        values={"biller": "biller", "amount": "amount"},
    ),
    "get_balance": T(
        ("Show my[ {account}] balance", "Check my[ {account}] account balance", "Tell me my[ {account}] balance"),
        ("What's my[ {account}] balance?", "How much is in my[ {account}] account?", "Can you check my[ {account}] balance?"),
        phrases={"account": {"savings": ("savings",), "credit": ("credit card",), "checking": ("checking",)}},
    ),
    # ---- shopping
    "add_to_cart": T(
        (
            "Add {product} to my cart[, quantity {quantity}]",
            "Put {product} in my shopping cart[, {quantity} of them]",
            "Add[ {quantity} packs of] {product} to the cart",
        ),
        (
            "Can you add {product} to my cart[, quantity {quantity}]?",
            "Could you put[ {quantity} packs of] {product} in the cart?",
            "Can you add {product} to the basket[, {quantity} of them]?",
        ),
        values={"product": "product", "quantity": "quantity"},
    ),
    "search_products": T(
        (
            "Search the store for {query}[ under ${max_price}][, {sort_by}]",
            "Find {query} in the shop[ for less than {max_price} dollars]",
            "Look up {query} in the store[ sorted {sort_by}]",
        ),
        (
            "Can you search the store for {query}[ under ${max_price}]?",
            "Does the shop have any {query}[ under {max_price} dollars]?",
            "Can you find {query} in the store[, {sort_by}]?",
        ),
        values={"query": "product", "max_price": "price"},
        phrases={
            "sort_by": {
                "price_low": ("cheapest first", "price low to high"),
                "price_high": ("priciest first", "price high to low"),
                "rating": ("best rated first", "top rated first"),
                "relevance": ("most relevant first",),
            }
        },
    ),
    "place_order": T(
        (
            "Order {items} for {ship_to.name} in {ship_to.city}[, delivered on {delivery_date}]",
            "Place an order for {items} to be shipped to {ship_to.name}, {ship_to.city}[ by {delivery_date}]",
            "Buy {items} and ship them to {ship_to.name} in {ship_to.city}[ for {delivery_date}]",
        ),
        (
            "Can you order {items} for {ship_to.name} in {ship_to.city}[ for delivery on {delivery_date}]?",
            "Could you send {items} to {ship_to.name} in {ship_to.city}?",
            "Can you place an order of {items} shipped to {ship_to.name} in {ship_to.city}[ by {delivery_date}]?",
        ),
        values={"items": "product", "ship_to.name": "full_name", "ship_to.city": "city"},
    ),
    "track_order": T(
        ("Track order {order_id}", "Show me where order {order_id} is", "Check the status of my order {order_id}"),
        ("Where is my order {order_id}?", "Has order {order_id} shipped yet?", "Can you track package {order_id} for me?"),
        values={"order_id": "order_id"},
    ),
    "add_to_shopping_list": T(
        ("Add {items} to my shopping list", "Put {items} on the shopping list", "Write {items} on my grocery list"),
        ("Can you add {items} to my shopping list?", "Could you put {items} on the shopping list?", "Can you jot {items} down on my grocery list?"),
        values={"items": "grocery"},
    ),
    # ---- media
    "play_music": T(
        ("Play {query}[ {shuffle}][ at volume {volume}]", "Put on some {query}[ {shuffle}]", "Start playing {query}[ at {volume} percent volume]"),
        ("Can you play {query}[ {shuffle}]?", "Could you put on some {query}[ at volume {volume}]?", "Can I hear some {query}[ {shuffle}]?"),
        values={"query": "music", "volume": "percent"},
        phrases={"shuffle": {True: ("on shuffle", "shuffled")}},
    ),
    "play_podcast": T(
        (
            "Play the podcast {show}[, episode {episode}]",
            "Put on[ episode {episode} of] the {show} podcast",
            "Start[ episode {episode} of| the latest episode of] {show}",
        ),
        (
            "Can you play the {show} podcast[, episode {episode}]?",
            "Could you put on[ episode {episode} of| the newest] {show}?",
            "Can you start the podcast {show}[ from episode {episode}]?",
        ),
        values={"show": "podcast", "episode": "episode"},
    ),
    "set_volume": T(
        ("Set the volume to {level}", "Change the speaker volume to {level}%", "Turn the volume to {level} percent"),
        ("Can you set the volume to {level}?", "Could you make the volume {level} percent?", "Can you put the speaker at {level}% volume?"),
        values={"level": "level"},
    ),
    "pause_media": T(
        ("Pause the music", "Pause whatever is playing", "Pause playback for a second"),
        ("Can you pause this?", "Could you pause the music for a moment?", "Can you hit pause on what's playing?"),
    ),
    # ---- notes
    "create_note": T(
        (
            "Save a note called {title} that says {text}[ and {pinned}]",
            "Make a note named {title} saying {text}[, {pinned}]",
            "Write down a note titled {title}: {text}",
        ),
        (
            "Can you save a note called {title} saying {text}[ and {pinned}]?",
            "Could you write down a note named {title}: {text}?",
            "Can you make a note titled {title} that says {text}[ and {pinned}]?",
        ),
        values={"title": "note_title", "text": "note_text"},
        phrases={"pinned": {True: ("pin it",)}},
    ),
    "add_todo": T(
        ("Add a to-do to {task}[ by {due_date}][ as {priority}]", 'Put "{task}" on my to-do list[, due {due_date}]', "Create a task to {task}[, {priority}]"),
        (
            "Can you add a to-do to {task}[ for {due_date}]?",
            'Could you put "{task}" on my task list[ as {priority}]?',
            "Can you create a task to {task}[ due {due_date}]?",
        ),
        values={"task": "task"},
        phrases={"priority": {"low": ("low priority",), "high": ("high priority",), "normal": ("normal priority",)}},
    ),
    "search_notes": T(
        ("Search my notes for {query}[ and show {limit} results]", "Find notes about {query}", "Look through my notes for {query}[, top {limit}]"),
        ("Do I have any notes about {query}?", "Can you search my notes for {query}[ and show the top {limit}]?", "Which of my notes mention {query}?"),
        values={"query": "note_query", "limit": "limit"},
    ),
}

# Words the value makers draw from (names and cities come from Faker).
WORDS: dict[str, tuple[str, ...]] = {
    "message": (
        "I'm running ten minutes late",
        "dinner is ready",
        "the meeting moved to room 4",
        "I'll pick up the kids",
        "the package arrived",
        "I left my keys at your place",
        "the game starts at eight",
        "can you grab some bread",
        "I'm outside",
        "the train is delayed",
        "happy birthday",
        "I'll call you after work",
        "don't forget the tickets",
        "the plumber is coming tomorrow",
        "we're out of coffee",
    ),
    "email_subject": (
        "quarterly report",
        "weekend plans",
        "team offsite",
        "budget review",
        "project timeline",
        "holiday schedule",
        "rent increase",
        "school fundraiser",
        "conference travel",
        "new office layout",
        "client feedback",
        "hiring plan",
    ),
    "email_body": (
        "please review by Friday",
        "the draft is attached",
        "let me know what you think",
        "we need to decide this week",
        "thanks for your help",
        "see the notes from Monday",
        "I can join after lunch",
    ),
    "event_title": (
        "dentist appointment",
        "team standup",
        "book club",
        "yoga class",
        "project review",
        "parent teacher meeting",
        "car service",
        "piano lesson",
        "sprint planning",
        "haircut",
        "coffee with the new hire",
        "budget meeting",
        "doctor's appointment",
        "soccer practice",
    ),
    "room": ("kitchen", "living room", "bedroom", "office", "hallway", "bathroom", "dining room", "nursery", "basement", "guest room"),
    "product": (
        "oat milk",
        "AA batteries",
        "coffee beans",
        "dish soap",
        "paper towels",
        "printer paper",
        "phone chargers",
        "running socks",
        "olive oil",
        "dog food",
        "laundry detergent",
        "green tea",
        "desk lamps",
        "yoga mats",
        "hand cream",
        "water filters",
    ),
    "grocery": ("milk", "eggs", "bread", "bananas", "butter", "cheddar", "spinach", "rice", "tomatoes", "yogurt", "apples", "pasta", "onions", "chicken"),
    "biller": ("City Power", "Metro Water", "Northwind Gas", "FiberNet", "Green Valley Insurance", "Bright Mobile", "Harbor Waste", "Summit Internet"),
    "payment_note": ("dinner", "concert tickets", "rent", "the cab ride", "groceries", "the birthday gift", "gas money", "lunch"),
    "music": (
        "jazz",
        "lo-fi beats",
        "classical piano",
        "80s rock",
        "workout mix",
        "chill acoustic",
        "reggae",
        "hip hop",
        "movie soundtracks",
        "bossa nova",
        "indie folk",
    ),
    "podcast": (
        "Morning Brew Talk",
        "Deep Space Hour",
        "History Unboxed",
        "The Kitchen Table",
        "Tech Talk Daily",
        "Mind the Markets",
        "True Crime Tonight",
        "Garden Notes",
    ),
    "note_title": ("wifi", "plumber", "gift ideas", "parking spot", "recipes", "packing list", "book tips", "locker code"),
    "note_text": (
        "the password is on the fridge",
        "call him on Monday",
        "a scarf for mom",
        "level 3 spot 42",
        "use less salt next time",
        "bring the charger",
        "read the new mystery novel",
        "the code is 4412",
    ),
    "task": (
        "buy stamps",
        "renew my passport",
        "call the bank",
        "water the plants",
        "book a flight",
        "return the library books",
        "fix the bike",
        "pay the parking ticket",
    ),
    "note_query": ("wifi password", "gift ideas", "tax forms", "recipes", "car insurance", "packing list", "book tips"),
    "timer_label": ("pasta", "laundry", "tea", "workout", "oven", "nap", "homework"),
    "alarm_label": ("gym", "meds", "school run", "standup", "flight", "bins"),
    "place": ("Union Station", "City Hall", "Riverside Park", "the airport", "Grand Central Mall", "Memorial Hospital", "Harbor Bridge", "the stadium"),
}
