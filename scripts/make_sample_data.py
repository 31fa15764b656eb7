"""Write the demo's sample batches, capture and organisation profile to sample-data/ (deterministic: same seed,
same files).

The data is invented here: a small office of 12 hosts using AI tools over one working day, seen by one sensor,
plus a few browser events; and three months of browser prompts from Lumenwell Health, an invented US health-tech
company (25 people in six departments, six AI tools), most of them ordinary work and a minority carrying customer
contacts, patient notes, an SSN, card and bank details, unreleased results, contract clauses or credentials. Every
name, number and key comes from the templates below. Run with `make sample-data`; tests check the committed files
match this script.
"""

from __future__ import annotations

import random
import string
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from events.labels import DataLabel
from events.models import (
    MAX_BATCH_EVENTS,
    SCHEMA_VERSION,
    ContentFindings,
    EventBatch,
    NetworkUsageEvent,
    PasteEvent,
    PromptEvent,
    Signal,
    Transport,
    UploadEvent,
    VisitEvent,
)
from sensor.sample_traffic import office_morning

OUT_DIR = Path(__file__).resolve().parents[1] / "sample-data"
SENSOR_ID = "tap-hq-01"
DAY = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

# (tool id, server name, server address, typical upload bytes)
TOOLS = [
    ("openai-chatgpt", "chatgpt.com", "104.18.32.47", 40_000),
    ("anthropic-claude", "claude.ai", "160.79.104.10", 30_000),
    ("google-gemini", "gemini.google.com", "142.250.74.110", 20_000),
    ("deepseek-chat", "chat.deepseek.com", "116.205.40.120", 15_000),
    ("perplexity", "www.perplexity.ai", "104.18.26.48", 8_000),
    ("deepl-translator", "www.deepl.com", "104.18.20.211", 60_000),
]
SIGNALS = [
    (Signal.TLS_SNI, Transport.TCP, 443),
    (Signal.QUIC_SNI, Transport.UDP, 443),
    (Signal.DNS_ANSWER_IP, Transport.TCP, 443),
]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def network_batch(rng: random.Random) -> EventBatch:
    events = []
    for _ in range(48):
        tool_id, name, server_ip, typical_up = rng.choice(TOOLS)
        signal, transport, port = rng.choice(SIGNALS)
        start = DAY + timedelta(seconds=rng.randrange(0, 9 * 3600))
        up = int(rng.lognormvariate(0, 1) * typical_up)
        events.append(
            NetworkUsageEvent(
                event_id=_uuid(rng),
                sensor_id=SENSOR_ID,
                client_ip=f"10.20.0.{rng.randrange(10, 22)}",
                server_ip=server_ip,
                server_port=port,
                transport=transport,
                tool_id=tool_id,
                server_name=name,
                signals=(Signal.DNS, signal) if signal is not Signal.DNS_ANSWER_IP else (signal,),
                bytes_up=up,
                bytes_down=up * rng.randrange(2, 12),
                packets_up=max(1, up // 1200),
                packets_down=max(1, up * 4 // 1200),
                first_seen=start,
                last_seen=start + timedelta(seconds=rng.randrange(1, 900)),
            )
        )
    return EventBatch(
        schema_version=SCHEMA_VERSION,
        batch_id=_uuid(rng),
        sent_at=DAY + timedelta(hours=10),
        events=tuple(sorted(events, key=lambda e: e.first_seen)),
    )


def browser_batch(rng: random.Random) -> EventBatch:
    at = DAY + timedelta(hours=2)
    findings = ContentFindings(
        labels=(DataLabel.PII,),
        entity_counts={"email_address": 14, "person": 14},
        text_hmac=f"{rng.getrandbits(256):064x}",
        text_length=1830,
    )
    events = (
        VisitEvent(
            event_id=_uuid(rng),
            device_id="laptop-0042",
            user="j.doe",
            tool_id="openai-chatgpt",
            host="chatgpt.com",
            occurred_at=at,
        ),
        PasteEvent(
            event_id=_uuid(rng),
            device_id="laptop-0042",
            user="j.doe",
            tool_id="openai-chatgpt",
            host="chatgpt.com",
            occurred_at=at + timedelta(seconds=20),
            findings=findings,
        ),
        PromptEvent(
            event_id=_uuid(rng),
            device_id="laptop-0042",
            user="j.doe",
            tool_id="openai-chatgpt",
            host="chatgpt.com",
            occurred_at=at + timedelta(seconds=31),
            text="Rewrite this paragraph so it sounds friendlier.",
        ),
        UploadEvent(
            event_id=_uuid(rng),
            device_id="laptop-0017",
            user="a.smith",
            tool_id="deepl-translator",
            host="www.deepl.com",
            occurred_at=at + timedelta(minutes=7),
            file_name="supplier-agreement.docx",
            file_size=48_213,
            media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            file_sha256=f"{rng.getrandbits(256):064x}",
        ),
    )
    return EventBatch(
        schema_version=SCHEMA_VERSION, batch_id=_uuid(rng), sent_at=at + timedelta(minutes=10), events=events
    )


# --- Three months of browser prompts at Lumenwell Health (invented) ----------------------------------------------

PROMPT_SEED = 20261031
PROMPT_FIRST_DAY = date(2026, 8, 1)
PROMPT_LAST_DAY = date(2026, 10, 31)
ORDINARY_PROMPTS = 400
COMPANY = "Lumenwell Health"
PRODUCT = "CareRoute"

# Department → users (pseudonymous directory names). j.doe and a.smith also appear in browser-batch.json.
STAFF = {
    "Sales": ("j.doe", "m.okafor", "l.bergstrom", "r.castillo", "t.nakamura"),
    "Customer Success": ("p.moreau", "d.hughes", "s.iyer", "k.novak", "e.fischer"),
    "Clinical Operations": ("n.adeyemi", "c.romano", "h.larsen"),
    "Finance": ("g.whitfield", "y.tanaka", "b.osei", "f.lindgren"),
    "Legal": ("a.smith", "v.dubois"),
    "Engineering": ("o.petrov", "i.costa", "w.zhang", "q.ahmed", "z.kowalski", "u.mensah"),
}
DEPARTMENT_OF = {user: department for department, users in STAFF.items() for user in users}
FIXED_DEVICES = {"j.doe": "laptop-0042", "a.smith": "laptop-0017"}

# (catalog id, page host, how often people pick it)
PROMPT_TOOLS = (
    ("openai-chatgpt", "chatgpt.com", 34),
    ("microsoft-copilot", "copilot.microsoft.com", 20),
    ("anthropic-claude", "claude.ai", 18),
    ("google-gemini", "gemini.google.com", 13),
    ("perplexity", "www.perplexity.ai", 10),
    ("deepseek-chat", "chat.deepseek.com", 5),
)
HOST_OF = {tool_id: host for tool_id, host, _ in PROMPT_TOOLS}

FIRST_NAMES = (
    "Maria", "Daniel", "Aisha", "Tomasz", "Helen", "Rafael", "Ingrid", "Kwame", "Sofia", "Liam", "Priya", "Jonas",
    "Beatriz", "Owen", "Mei", "Lukas", "Fatima", "Gareth", "Elena", "Marcus", "Yuki", "Nadia", "Pieter", "Grace",
    "Anton", "Leila", "Dmitri", "Rosa", "Samuel", "Ines", "Victor", "Hannah", "Emeka", "Clara", "Felix", "Amara",
)  # fmt: skip
LAST_NAMES = (
    "Lindqvist", "Okoro", "Haddad", "Brennan", "Marsh", "Delgado", "Kowalczyk", "Mensah", "Ferreira", "Whitaker",
    "Raman", "Albrecht", "Castellano", "Pryce", "Sorensen", "Nwosu", "Varga", "Hollis", "Moreau", "Tanberg",
    "Achterberg", "Quintero", "Ellison", "Baptiste", "Novotny", "Reyes", "Halvorsen", "Ashdown", "Kimura", "Duarte",
)  # fmt: skip
CLINICS = (
    ("Harbor Point Family Practice", "harborpointfp.com", "617"),
    ("Cedar Ridge Pediatrics", "cedarridgepeds.com", "303"),
    ("Lakeshore Orthopedic Group", "lakeshore-ortho.com", "312"),
    ("Bluebonnet Dental Studio", "bluebonnetdental.com", "512"),
    ("Sound View Dermatology", "soundviewderm.com", "206"),
    ("Riverside Movement Clinic", "riverside-movement.com", "503"),
    ("Magnolia Women's Health", "magnoliawh.com", "504"),
    ("Granite State Eye Care", "granitestateeye.com", "603"),
)  # fmt: skip
EU_CLINICS = (
    ("Praxis am Stadtpark", "praxis-stadtpark.de", "+49 30"),
    ("Centre Médical Lumière", "cm-lumiere.fr", "+33 1"),
    ("Kliniek De Linde", "kliniekdelinde.nl", "+31 20"),
)
CONDITIONS = (
    ("type 2 diabetes", "metformin 1000 mg twice daily"),
    ("hypertension", "lisinopril 10 mg daily"),
    ("major depressive disorder", "sertraline 50 mg daily"),
    ("asthma", "albuterol inhaler as needed"),
    ("atrial fibrillation", "apixaban 5 mg twice daily"),
    ("hypothyroidism", "levothyroxine 75 mcg daily"),
    ("rheumatoid arthritis", "methotrexate 15 mg weekly"),
    ("chronic kidney disease", "furosemide 40 mg daily"),
)
SUPPLIERS = (
    ("Nordlicht Medizintechnik GmbH", "DE"),
    ("Van Aken Software B.V.", "NL"),
    ("Brightwater Data Services GmbH", "DE"),
    ("Oosterhout Print & Mail B.V.", "NL"),
)
STREETS = ("Alder Street", "Maple Avenue", "Harrison Road", "Elm Court", "Juniper Lane", "Walnut Drive", "Birch Way")
CITIES = (("Portland", "OR", "972"), ("Denver", "CO", "802"), ("Boston", "MA", "021"), ("Austin", "TX", "787"))

# Networks' published test card numbers never appear in the samples (the classifier ignores them on purpose).
TEST_CARD_NUMBERS = frozenset(
    {"4111111111111111", "4242424242424242", "5555555555554444", "4012888888881881", "5105105105105100"}
)


@dataclass(frozen=True, slots=True)
class PromptSample:
    """One browser event of the workload, and the labels its text is meant to get (empty: an ordinary prompt)."""

    event: PromptEvent | PasteEvent | UploadEvent
    labels: frozenset[str]


@dataclass(frozen=True, slots=True)
class Person:
    first: str
    last: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def _person(rng: random.Random) -> Person:
    return Person(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))


def _luhn_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def fake_card_number(rng: random.Random) -> str:
    """A 16-digit Visa or Mastercard number that passes Luhn and is none of the networks' test numbers."""
    while True:
        prefix = rng.choice(("4", "51", "52", "53", "54", "55"))
        body = prefix + "".join(rng.choice(string.digits) for _ in range(15 - len(prefix)))
        number = body + _luhn_digit(body)
        if number not in TEST_CARD_NUMBERS:
            return number


def fake_ssn(rng: random.Random) -> str:
    """A valid-looking SSN: area 001-899 but not 666, group 01-99, serial 0001-9999."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10_000):04d}"


def fake_iban(rng: random.Random, country: str) -> str:
    """A German (bank code + account) or Dutch (bank letters + account) IBAN with correct mod-97 check digits."""
    if country == "DE":
        bban = "".join(rng.choice(string.digits) for _ in range(18))
    else:
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4))
        bban += "".join(rng.choice(string.digits) for _ in range(10))
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def _grouped(value: str, size: int = 4) -> str:
    return " ".join(value[i : i + size] for i in range(0, len(value), size))


def _token(rng: random.Random, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def _us_phone(rng: random.Random, area: str) -> str:
    return f"({area}) 555-01{rng.randrange(0, 100):02d}"


# --- Texts that carry data ---------------------------------------------------------------------------------------


def contact_list(rng: random.Random, rows: int, *, eu: bool = False) -> tuple[str, list[str]]:
    """A customer contact list (practice managers and billing contacts); also returns its rows for reuse."""
    lines = []
    for _ in range(rows):
        person = _person(rng)
        if eu:
            clinic, domain, prefix = rng.choice(EU_CLINICS)
            phone = f"{prefix} {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}"
        else:
            clinic, domain, area = rng.choice(CLINICS)
            phone = _us_phone(rng, area)
        email = f"{person.first.lower()}.{person.last.lower()}@{domain}"
        lines.append(f"{person.name} | {clinic} | {email} | {phone}")
    return "\n".join(lines), lines


CONTACT_ASKS = (
    "Turn this into a clean table (name, clinic, email, phone), sort by clinic and remove duplicates:",
    "Write a short personalised renewal reminder for each of these contacts:",
    "Which of these clinics should we invite to the customer advisory board? Contacts below.",
)


def contact_prompt(ask: str, rows: list[str]) -> str:
    return f"{ask}\n\nName | Clinic | Email | Phone\n" + "\n".join(rows)


def employee_record(rng: random.Random) -> str:
    person = _person(rng)
    city, state, zip3 = rng.choice(CITIES)
    start = date(2026, rng.randrange(8, 11), rng.randrange(1, 29))
    return (
        "Reformat this new-hire record for the payroll import, one field per line, and flag anything missing:\n\n"
        f"Employee: {person.name}\n"
        f"SSN: {fake_ssn(rng)}\n"
        f"Home address: {rng.randrange(100, 9999)} {rng.choice(STREETS)}, {city}, {state} "
        f"{zip3}{rng.randrange(10, 99)}\n"
        f"Start date: {start.isoformat()}\n"
        f"Department: {rng.choice(tuple(STAFF))}\n"
        "Filing status: single"
    )


def patient_note(rng: random.Random) -> str:
    person = _person(rng)
    condition, medication = rng.choice(CONDITIONS)
    born = date(rng.randrange(1940, 2000), rng.randrange(1, 13), rng.randrange(1, 29))
    ask = rng.choice(
        (
            "Summarise this for the referral letter in under 100 words:",
            "A clinic pasted this into a support ticket; rewrite it as a plain-language visit summary:",
            "Check this note for missing fields before we import it into CareRoute:",
        )
    )
    return (
        f"{ask}\n\n"
        f"Patient: {person.name}\n"
        f"DOB: {born.month:02d}/{born.day:02d}/{born.year}\n"
        f"MRN: {rng.randrange(10**7, 10**8)}\n"
        f"Diagnosis: {condition}\n"
        f"Medication: {medication}\n"
        f"Next visit: follow-up in {rng.choice(('two', 'four', 'six'))} weeks"
    )


def card_update(rng: random.Random) -> str:
    person = _person(rng)
    clinic = rng.choice(CLINICS)[0]
    return (
        f"{clinic} asked us to update the card on file. Write a short confirmation email to them (don't repeat "
        "the number):\n\n"
        f"Cardholder: {person.name}\n"
        f"Card number: {_grouped(fake_card_number(rng))}\n"
        f"Exp: {rng.randrange(1, 13):02d}/{rng.randrange(27, 31)}\n"
        f"Billing ZIP: {rng.choice(CITIES)[2]}{rng.randrange(10, 99)}"
    )


def supplier_payment(rng: random.Random) -> str:
    supplier, country = rng.choice(SUPPLIERS)
    bic = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + country + rng.choice(("FF", "2A", "MM"))
    return (
        "Draft a payment instruction email to our bank for this supplier invoice:\n\n"
        f"Beneficiary: {supplier}\n"
        f"IBAN: {_grouped(fake_iban(rng, country))}\n"
        f"BIC: {bic}\n"
        f"Invoice: INV-2026-{rng.randrange(1000, 9999)}, EUR {rng.randrange(4, 60)},{rng.randrange(100, 999)}.00, "
        "due in 30 days"
    )


def results_draft(rng: random.Random) -> str:
    revenue = rng.randrange(380, 460) / 10
    growth = rng.randrange(22, 34)
    return (
        "Tighten this draft of the Q3 board update. It stays confidential until the board meets on November 12.\n\n"
        f"Q3 2026 revenue was ${revenue:.1f} million, up {growth}% year over year, ahead of our plan of "
        f"${revenue - 1.6:.1f} million. Gross margin was {rng.randrange(680, 740) / 10:.1f}% against "
        f"{rng.randrange(640, 680) / 10:.1f}% a year ago. Operating loss narrowed to "
        f"${rng.randrange(20, 45) / 10:.1f} million and free cash flow turned positive at "
        f"${rng.randrange(5, 19) / 10:.1f} million. ARR ended the quarter at ${revenue * 4.1:.1f} million with net "
        f"revenue retention of {rng.randrange(112, 124)}%. We are raising full-year revenue guidance to "
        f"${revenue * 3.8:.0f}-{revenue * 3.9:.0f} million."
    )


NDA_CLAUSES = (
    '"Confidential Information" means all non-public business, technical and patient-related information disclosed '
    'by either party (the "Disclosing Party") to the other (the "Receiving Party"), whether orally or in writing.',
    "The Receiving Party shall not disclose Confidential Information to any third party and shall use it solely to "
    "evaluate the proposed collaboration, for a period of {years} ({n}) years from the Effective Date.",
    "Upon written request, the Receiving Party shall return or destroy all Confidential Information within thirty "
    "(30) days and certify such destruction in writing.",
    "Neither party shall be liable for indirect or consequential damages, except for breach of Section 2.",
    "This Agreement shall be governed by the laws of the State of {state}, and the parties submit to the exclusive "
    "jurisdiction of its courts.",
    "Each party shall indemnify and hold harmless the other party from any claims arising out of its breach of this "
    "Agreement.",
)


def contract_clauses(rng: random.Random) -> str:
    counterparty = rng.choice(("Northgate Imaging Partners", "Vireo Analytics Inc.", "Calloway Health System"))
    ask = rng.choice(
        (
            f"Is this NDA with {counterparty} one-sided? Suggest a mutual version of each clause:",
            f"Summarise the obligations on us in this draft agreement with {counterparty}:",
            f"Redline these clauses from {counterparty}'s paper in our favour:",
        )
    )
    years, n = rng.choice((("two", 2), ("three", 3), ("five", 5)))
    clauses = [
        clause.format(years=years, n=n, state=rng.choice(("Delaware", "New York", "Massachusetts")))
        for clause in rng.sample(NDA_CLAUSES, 4)
    ]
    return f"{ask}\n\n" + "\n".join(f"{i}. {clause}" for i, clause in enumerate(clauses, 1))


def credentials_paste(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        password = _token(rng, 16)
        return (
            "Why does this fail with 'password authentication failed for user'? The same URL works from my laptop.\n\n"
            f"DATABASE_URL=postgresql://reporting_svc:{password}@db-prod-02.internal:5432/analytics\n"
            "psql \"$DATABASE_URL\" -c 'select count(*) from appointments'"
        )
    if kind == 1:
        return (
            "This config doesn't load in staging, what's wrong with the YAML?\n\n"
            "integrations:\n"
            "  billing:\n"
            f"    api_key: {_token(rng, 32, string.hexdigits.lower()[:16])}\n"
            "    endpoint: https://billing.internal/api/v2\n"
            "   timeout: 30"
        )
    password = _token(rng, 14)
    return (
        "Convert this .NET connection string to a SQLAlchemy URL:\n\n"
        f"Server=tcp:lumenwell-sql.database.windows.net,1433;Initial Catalog=Scheduling;User ID=etl_loader;"
        f"Password={password};Encrypt=True;"
    )


# --- Ordinary work -----------------------------------------------------------------------------------------------

FEATURES = (
    "online booking", "appointment reminders", "the waitlist", "two-way SMS", "insurance eligibility checks",
    "the referral inbox", "recall campaigns", "the patient intake form", "calendar sync", "no-show reports",
)  # fmt: skip
CLINIC_TYPES = ("dental practice", "pediatric clinic", "physical therapy practice", "dermatology group", "eye clinic")
TOPICS = (
    "reducing no-shows", "AI in healthcare operations", "patient experience", "clinic staffing shortages",
    "interoperability standards", "remote work", "customer onboarding", "product-led growth",
)  # fmt: skip
LANGUAGES = ("German", "French", "Dutch", "Spanish")
SENTENCES = (
    "Thanks for joining the webinar, the recording and slides are linked below.",
    "Your clinic's new booking page is live and can be shared with patients today.",
    "We are moving the quarterly review to Thursday afternoon.",
    "The release planned for this week is postponed by two days while we finish testing.",
)
REPLIES = (
    "As we already explained twice, the sync issue was on your side and there is nothing more we can do.",
    "You should have read the release notes before the update, the setting moved to the admin page.",
    "We don't support that calendar, it says so on the website.",
)
GENERAL_PROMPTS = (
    "Rewrite this paragraph so it sounds friendlier: {sentence}",
    "Translate into {language}: {sentence}",
    "Give me five subject lines for an email announcing {feature_cap} in {product}.",
    "Summarise the main arguments for and against {topic} in five bullets.",
    "What's a polite way to decline a meeting because of a scheduling conflict?",
    "Make this shorter and clearer: {sentence}",
    "Suggest an agenda for a 45-minute team offsite session on {topic}.",
    "Proofread: {sentence}",
)
DEPARTMENT_PROMPTS: dict[str, tuple[str, ...]] = {
    "Sales": (
        "Write a short cold email to the practice manager of a {clinic_type} introducing {product}'s {feature}.",
        "Draft a follow-up email after a demo with a {clinic_type} that asked about {feature}.",
        "List the objections a {clinic_type} might raise about switching scheduling software, with answers.",
        "Write a LinkedIn post about {topic} from the point of view of a health-tech sales lead.",
        "Create a discovery call script for a {clinic_type} with five open questions.",
        "How do I explain the ROI of {feature} to a clinic owner in two sentences?",
    ),
    "Customer Success": (
        "Write a help-centre article explaining how to set up {feature} in {product}.",
        "Draft release notes for version 4.{minor} covering {feature}, {feature2} and bug fixes.",
        "Make a checklist for onboarding a new {clinic_type} in its first 30 days.",
        "Rewrite this reply to an upset customer so it is calmer: {reply}",
        "Suggest three ways to increase adoption of {feature} among clinic front-desk staff.",
        "Write a survey with five questions about how clinics use {feature}.",
    ),
    "Clinical Operations": (
        "Explain in plain language what HIPAA's minimum necessary standard means for a support team.",
        "Summarise best practices for {topic} at outpatient clinics.",
        "Write a five-question training quiz on handling appointment reminders safely.",
        "Draft a workflow description for triaging referral requests in {product}.",
        "What should a clinic's policy on text-message reminders cover?",
        "Compare the pros and cons of {feature} for small and large practices.",
    ),
    "Finance": (
        "Write an Excel formula that sums column D when column B says Q3 and column C is not empty.",
        "How should I structure a monthly close checklist for a SaaS company?",
        "Draft an email reminding department heads to submit their budget requests by the end of the month.",
        "Explain the difference between bookings, billings and revenue in simple terms.",
        "Write a VBA macro that copies every sheet named like 'Dept*' into one summary sheet.",
        "What questions should we ask when evaluating a new expense management tool?",
    ),
    "Legal": (
        "What is the difference between an indemnity and a limitation of liability clause?",
        "Summarise the obligations of a HIPAA business associate in plain English.",
        "Draft an email asking a vendor for their latest SOC 2 report and penetration test summary.",
        "Which topics must a data processing agreement cover under GDPR Article 28? A short list please.",
        "Explain the difference between a mutual and a one-way NDA.",
        "Write a checklist for reviewing a new SaaS vendor's privacy policy.",
    ),
    "Engineering": (
        "Write a Python function that retries an HTTP request with exponential backoff and jitter.",
        "Explain this error and how to fix it: sqlalchemy.exc.OperationalError: database is locked",
        "Write a SQL query that returns the ten clinics with the most cancelled appointments last month.",
        "What's the difference between a liveness and a readiness probe in Kubernetes?",
        "Write pytest tests for a function that parses ISO 8601 durations.",
        "Suggest names for a feature flag that turns on {feature}.",
        "Review this Dockerfile for problems: FROM python:3.12-slim, COPY . /app, RUN pip install -r requirements.txt",
        "How do I make a GitHub Actions job run only when files under src/ change?",
        "Explain the trade-offs between Celery and a plain cron job for sending {feature}.",
    ),
}


def ordinary_prompt(rng: random.Random, department: str) -> str:
    template = rng.choice(DEPARTMENT_PROMPTS[department] if rng.random() < 0.75 else GENERAL_PROMPTS)
    feature, feature2 = rng.sample(FEATURES, 2)
    return template.format(
        sentence=rng.choice(SENTENCES),
        reply=rng.choice(REPLIES),
        language=rng.choice(LANGUAGES),
        feature=feature,
        feature_cap=feature[0].upper() + feature[1:],
        feature2=feature2,
        product=PRODUCT,
        topic=rng.choice(TOPICS),
        clinic_type=rng.choice(CLINIC_TYPES),
        minor=rng.randrange(2, 9),
    )


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UPLOADS = (
    ("Finance", "q3-board-update-draft.docx", DOCX),
    ("Sales", "pricing-sheet-2027.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("Customer Success", "clinic-feedback-september.csv", "text/csv"),
    ("Engineering", "architecture-overview.pdf", "application/pdf"),
    ("Legal", "msa-redline-v3.docx", DOCX),
    ("Clinical Operations", "reminder-workflow.png", "image/png"),
)


# --- The workload ------------------------------------------------------------------------------------------------

MONTH_WEIGHT = {8: 0.8, 9: 1.0, 10: 1.3}  # adoption grows over the quarter


@dataclass(frozen=True, slots=True)
class Incident:
    """Data that went to an AI tool: who, what, where, how often the same text was sent."""

    user: str
    text: Callable[[random.Random], str]
    labels: frozenset[str]
    tool: str | None = None  # None: the user's usual tool
    times: int = 1


def _workdays() -> list[date]:
    days = [PROMPT_FIRST_DAY + timedelta(days=n) for n in range((PROMPT_LAST_DAY - PROMPT_FIRST_DAY).days + 1)]
    return [day for day in days if day.weekday() < 5]


def _moment(rng: random.Random, days: list[date]) -> datetime:
    day = rng.choices(days, weights=[MONTH_WEIGHT[d.month] for d in days])[0]
    return datetime.combine(day, time(8), UTC) + timedelta(seconds=rng.randrange(0, int(10.5 * 3600)))


def _contact_incidents(rng: random.Random) -> Iterator[Incident]:
    """Customer lists: one pasted five times by its owner, another sharing three of its people, an EU one."""
    _, rows_a = contact_list(rng, 12)
    _, rows_b = contact_list(rng, 8)
    _, rows_c = contact_list(rng, 6)
    _, rows_eu = contact_list(rng, 6, eu=True)
    list_a = contact_prompt(CONTACT_ASKS[0], rows_a)
    list_b = contact_prompt(CONTACT_ASKS[1], rows_b + rows_a[2:5])
    list_c = contact_prompt("Write a SQL INSERT statement for each of these rows (table clinic_contacts):", rows_c)
    list_eu = contact_prompt(CONTACT_ASKS[2], rows_eu)
    pii = frozenset({"pii"})
    yield Incident("r.castillo", lambda _: list_a, pii, "openai-chatgpt", times=5)
    yield Incident("d.hughes", lambda _: list_b, pii, "anthropic-claude", times=3)
    yield Incident("q.ahmed", lambda _: list_c, pii, "deepseek-chat")
    yield Incident("l.bergstrom", lambda _: list_eu, pii, "google-gemini", times=2)


def _incidents(rng: random.Random) -> Iterator[Incident]:
    yield from _contact_incidents(rng)
    pii, phi = frozenset({"pii"}), frozenset({"phi", "pii"})
    card, bank = frozenset({"payment_card"}), frozenset({"financial"})
    yield from (Incident("b.osei", employee_record, pii, "microsoft-copilot") for _ in range(4))
    yield from (Incident("n.adeyemi", patient_note, phi) for _ in range(3))
    yield Incident("c.romano", patient_note, phi, "google-gemini", times=2)
    yield Incident("c.romano", patient_note, phi, "google-gemini")
    yield from (Incident("s.iyer", patient_note, phi, "openai-chatgpt") for _ in range(2))
    yield from (Incident("k.novak", card_update, card, "openai-chatgpt") for _ in range(4))
    yield from (Incident("f.lindgren", supplier_payment, bank) for _ in range(4))
    yield from (Incident("g.whitfield", results_draft, bank, "anthropic-claude") for _ in range(4))
    yield from (Incident(user, contract_clauses, frozenset({"legal"})) for user in ["v.dubois"] * 4 + ["a.smith"] * 3)
    for user, tool in (("o.petrov", None), ("w.zhang", "deepseek-chat"), ("z.kowalski", "microsoft-copilot")):
        yield from (Incident(user, credentials_paste, frozenset({"credentials"}), tool) for _ in range(2))


def prompt_workload() -> list[PromptSample]:
    """Three months of browser events at Lumenwell Health, in time order, with the labels each text should get."""
    rng = random.Random(PROMPT_SEED)
    days = _workdays()
    users = sorted(DEPARTMENT_OF)
    devices = {user: FIXED_DEVICES.get(user, f"laptop-{rng.randrange(100, 1000):04d}") for user in users}
    tool_ids = [tool_id for tool_id, _, _ in PROMPT_TOOLS]
    weights = [weight for _, _, weight in PROMPT_TOOLS]
    usual = {user: rng.choices(tool_ids, weights)[0] for user in users}
    activity = {user: rng.uniform(0.3, 1.0) for user in users}
    samples: list[PromptSample] = []

    def content(user: str, text: str, labels: frozenset[str], tool: str, at: datetime, *, paste: bool) -> None:
        model = PasteEvent if paste else PromptEvent
        event = model(
            event_id=_uuid(rng),
            device_id=devices[user],
            user=user,
            tool_id=tool,
            host=HOST_OF[tool],
            occurred_at=at,
            text=text,
        )
        samples.append(PromptSample(event, labels))

    def tool_of(user: str) -> str:
        return usual[user] if rng.random() < 0.7 else rng.choices(tool_ids, weights)[0]

    for _ in range(ORDINARY_PROMPTS):
        user = rng.choices(users, [activity[u] for u in users])[0]
        text = ordinary_prompt(rng, DEPARTMENT_OF[user])
        content(user, text, frozenset(), tool_of(user), _moment(rng, days), paste=rng.random() < 0.15)
    for incident in _incidents(rng):
        text = incident.text(rng)
        tool = incident.tool or usual[incident.user]
        paste = rng.random() < 0.6
        for _ in range(incident.times):
            content(incident.user, text, incident.labels, tool, _moment(rng, days), paste=paste)
    for department, file_name, media_type in UPLOADS:
        user = rng.choice(STAFF[department])
        tool = tool_of(user)
        upload = UploadEvent(
            event_id=_uuid(rng),
            device_id=devices[user],
            user=user,
            tool_id=tool,
            host=HOST_OF[tool],
            occurred_at=_moment(rng, days),
            file_name=file_name,
            file_size=int(rng.lognormvariate(11, 1)),
            media_type=media_type,
            file_sha256=f"{rng.getrandbits(256):064x}",
        )
        samples.append(PromptSample(upload, frozenset()))
    return sorted(samples, key=lambda sample: sample.event.occurred_at)


def prompt_batches(samples: list[PromptSample]) -> dict[str, EventBatch]:
    """One batch per month, as a gateway that uploads monthly would send them (each well under the batch cap)."""
    rng = random.Random(PROMPT_SEED + 1)
    by_month: dict[str, list[PromptSample]] = {}
    for sample in samples:
        by_month.setdefault(f"{sample.event.occurred_at:%Y-%m}", []).append(sample)
    batches = {}
    for month, chunk in sorted(by_month.items()):
        assert len(chunk) <= MAX_BATCH_EVENTS
        last = chunk[-1].event.occurred_at
        batches[f"prompts-batch-{month}.json"] = EventBatch(
            schema_version=SCHEMA_VERSION,
            batch_id=_uuid(rng),
            sent_at=datetime.combine(last.date() + timedelta(days=1), time(2), UTC),
            events=tuple(sample.event for sample in chunk),
        )
    return batches


ORGANISATION_YAML = """\
# Demo organisation profile for `make demo` (written by scripts/make_sample_data.py; edit the script, not this file).
# {company} is invented: a US health-tech company selling clinic scheduling software, with EU customers. It is a
# HIPAA business associate of the clinics it serves and a PCI level 3 merchant (clinics pay by card).
schema: shadowscope/organisation/v1
organisation:
  name: {company} (demo)
  industry: healthcare software
  annual_revenue_usd: 160000000
  employees: 640
  # Where the people in its data live: clinic staff and patients in the US, some clinics in Germany, France and
  # the Netherlands.
  subjects: {{eu_uk: 0.12, california: 0.18, other_us: 0.7}}
  hipaa: business_associate
  pci_merchant_level: 3
  glba_financial_institution: false
  listed_company: false
  materiality_share_of_revenue: 0.005
  # Directory user -> department, as the browser gateway reports users.
  departments:
{departments}
  overrides:
    response.fixed_usd:
      distribution: {{kind: pert, low: 40000, mode: 90000, high: 250000}}
      justification: >-
        Our cyber insurance policy (2026 renewal) assigns a breach coach and forensics firm at panel rates; the
        broker's schedule puts counsel and forensics for one incident at $40k-$250k, most often about $90k.
"""


def organisation_yaml() -> str:
    departments = "\n".join(f"    {user}: {DEPARTMENT_OF[user]}" for user in sorted(DEPARTMENT_OF))
    return ORGANISATION_YAML.format(company=COMPANY, departments=departments)


def write_capture() -> Path:
    """A small capture of one office client using ChatGPT, Claude, Perplexity and Gemini (and the BBC)."""
    return office_morning(OUT_DIR / "office-morning.pcap")


def render() -> dict[str, str]:
    rng = random.Random(20261102)
    return {
        "network-batch.json": network_batch(rng).model_dump_json(indent=2) + "\n",
        "browser-batch.json": browser_batch(rng).model_dump_json(indent=2) + "\n",
        **{name: batch.model_dump_json(indent=2) + "\n" for name, batch in prompt_batches(prompt_workload()).items()},
        "organisation.yaml": organisation_yaml(),
    }


def main() -> int:
    OUT_DIR.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT_DIR / name}")
    print(f"wrote {write_capture()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
