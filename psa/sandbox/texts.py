"""Word pools for seeded sandbox data, deliberately messy (unicode, RTL, quotes, backslashes)."""

from __future__ import annotations

import random
import unicodedata

FIRST_NAMES = (
    "Ana",
    "José",
    "Zoë",
    "Liam",
    "Noah",
    "Chloé",
    "Søren",
    "Aiko",
    "Mateus",
    "Olivia",
    "Björn",
    "Fatima",
    "محمد",
    "Łukasz",
    "Priya",
    "Dmitri",
    "Émile",
    "Grace",
    "Kwame",
    "Mei",
    "Yusuf",
    "Ingrid",
    "Tomás",
    "Hana",
    "Oğuz",
    "Sam",
)
LAST_NAMES = (
    "Álvarez",
    "Smith",
    "O'Brien",
    "Müller",
    "Nguyen",
    "Kowalski",
    "Johansson",
    "Tanaka",
    "Silva",
    "Dubois",
    "Okafor",
    "Chen",
    "Patel",
    "Ivanov",
    "García",
    "العلي",
    "Brown",
    "Rossi",
    "Yılmaz",
    "Novák",
    "Kim",
    "Wright",
)
TITLES = (
    "Service Technician",
    "Network Engineer",
    "Dispatcher",
    "Account Manager",
    "Service Manager",
    "Project Manager",
    "Help Desk Analyst",
    "vCIO",
)
CITIES = ("Tampa", "Chicago", "São Paulo", "Zürich", "London", "Montréal", "Kraków", "القاهرة", "Austin")
CONTACTS = ("Jane Doe", "Peter Parker", "Zoë Quinn", "Renée Martin", "Omar Haddad", "李雷", "Fiona Gallagher")
COMPANY_WORDS = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
    "Wonka",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
    "Dunder",
    "Pied Piper",
    "Gringotts",
    "Nakatomi",
    "Tyrell",
    "Bluth",
    "Krusty",
    "Oceanic",
    "Massive Dynamic",
)
COMPANY_SUFFIXES = (
    "Inc.",
    "LLC",
    "GmbH",
    "S.A.",
    "Ltd",
    "& Sons",
    "Holdings",
    "Dental",
    "Law Group",
    "Logistique",
    "Clínica",
    "Café ☕",
)
SUMMARY_VERBS = (
    "Cannot access",
    "Slow",
    "Error on",
    "Install",
    "Replace",
    "Reset password for",
    "Set up",
    "Outage:",
    "Renew",
    "Migrate",
    "Printer jam in",
    "VPN drops on",
    "Request:",
)
SUMMARY_OBJECTS = (
    'printer "HP LaserJet 4000"',
    "Outlook",
    "shared drive \\\\fs01\\share",
    "firewall",
    "laptop 💻",
    "Wi‑Fi in lobby",
    "QuickBooks",
    "new hire onboarding",
    "M365 licence",
    "backup job",
    "SSL certificate",
    "phone system ☎",
    "tablet — façade",
    "خادم البريد",
    "C:\\Windows\\Temp cleanup",
    "mailbox 'sales'",
)
SUMMARY_TAILS = (
    "",
    "",
    "",
    " (urgent)",
    " — again",
    " at HQ",
    " for CEO",
    " 🚨",
    " / Zürich office",
    " after update",
    " #2",
)
NOTE_SNIPPETS = (
    "Called the user, issue reproduced.",
    "Rebooted the device; monitoring.",
    'Customer says: "it worked yesterday".',
    "Checked logs in C:\\ProgramData\\Vendor\\logs — nothing odd.",
    "Ordered replacement part, ETA 3 days 📦.",
    "Remote session ended; user confirmed it's fixed ✅.",
    "Escalated to Tier 2 per SLA.",
    "تم التواصل مع العميل",
    "Élévation des privilèges refusée.",
    "Waiting on vendor ticket #44821.",
    "Line 1\nLine 2\n\tindented line 3",
)
PROJECT_WORDS = (
    "Office move",
    "Server refresh",
    "M365 migration",
    "Firewall upgrade",
    "Network redesign",
    "Onboarding 🚀",
    "Backup overhaul",
    "Zero-trust rollout",
)
OPPORTUNITY_WORDS = (
    "Managed services renewal",
    "New laptops",
    "Firewall replacement",
    "Cloud backup",
    "Security audit 🔐",
    "VoIP upgrade",
    "Licence true-up",
    "Contrat de maintenance",
)


def ascii_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def identifier_for(first: str, last: str, seen: set[str]) -> str:
    base = (ascii_fold(first)[:1] + ascii_fold(last)) or "member"
    candidate, n = base, 1
    while candidate in seen:
        n += 1
        candidate = f"{base}{n}"
    seen.add(candidate)
    return candidate


def company_name(rng: random.Random, index: int) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)} {index}"


def ticket_summary(rng: random.Random) -> str:
    summary = f"{rng.choice(SUMMARY_VERBS)} {rng.choice(SUMMARY_OBJECTS)}{rng.choice(SUMMARY_TAILS)}"
    roll = rng.random()
    if roll < 0.02:  # right at ConnectWise's limit
        summary = (summary + " — " + "details " * 40)[:255]
    elif roll < 0.05:
        summary = f"RE: FW: {summary} ‏(עברית)"
    return summary


def project_name(rng: random.Random) -> str:
    return f"{rng.choice(PROJECT_WORDS)} {rng.randint(2019, 2027)}"


def opportunity_name(rng: random.Random) -> str:
    return f"{rng.choice(OPPORTUNITY_WORDS)} – {rng.choice(COMPANY_WORDS)}"


def note_text(rng: random.Random) -> str:
    parts = [rng.choice(NOTE_SNIPPETS) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.05:  # long notes exist (pasted e-mails, logs)
        parts.append("Log excerpt: " + " ".join(f"[{i:04d}] ok" for i in range(rng.randint(200, 600))))
    return "\n".join(parts)
